<?php
// Writes bindings-php/ipnkit.stub.php, the IDE stub of the ipnkit extension, from the loaded
// extension itself: its classes, methods, parameters and types by reflection, the exception
// classes as the extension made them from the core's list, and Message's properties (PayPal's
// variables, with their kinds) from Ipnkit\Ipn::schema(). With --check, fails when the committed
// stub differs from what the extension gives (scripts/test runs it).
//
//   php -d extension=PATH bindings-php/generate-stub.php [--check]

declare(strict_types=1);

if (!extension_loaded('ipnkit')) {
    fwrite(STDERR, "generate-stub: the ipnkit extension is not loaded: php -d extension=PATH " . __FILE__ . "\n");
    exit(2);
}

$schema = Ipnkit\Ipn::schema();
$kinds = [];
foreach ($schema['variables'] as $variable) {
    $kinds[$variable['name']] = $variable['kind'];
}
$errorDocs = [];
foreach ($schema['errors'] as $error) {
    // The core names each kind's class `{Stem}Error`; PHP's are `Ipnkit\{Stem}Exception`.
    $errorDocs['Ipnkit\\' . substr($error['class'], 0, -strlen('Error')) . 'Exception'] = [$error['doc'], $error['codes']];
}

/** The PHP type of a modelled variable's kind, as `Message::__get` returns it. */
function variable_type(string $kind): string
{
    if (str_starts_with($kind, 'vocab:')) {
        return '?string';
    }
    return match ($kind) {
        'text', 'currency', 'decimal' => '?string',
        'flag' => '?bool',
        'count' => '?int',
        'money' => '?\\Ipnkit\\Money',
        'date' => '?\\Ipnkit\\PayPalDate',
        'period' => '?\\Ipnkit\\Period',
        default => throw new RuntimeException("generate-stub: no PHP type for the kind $kind"),
    };
}

function type_name(?ReflectionType $type): string
{
    if ($type === null) {
        return 'mixed';
    }
    $name = (string) $type;
    // Class names fully qualified, as in a namespaced file.
    return preg_replace_callback('/(?<![\\\\\w])([A-Z]\w*(?:\\\\\w+)*)/', fn ($m) => '\\' . $m[1], $name);
}

function parameter(ReflectionParameter $p): string
{
    if ($p->isVariadic()) {
        return type_name($p->getType()) . ' ...$' . $p->getName();
    }
    $out = type_name($p->getType()) . ' $' . $p->getName();
    if ($p->isOptional()) {
        $out .= ' = ' . ($p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : 'null');
    }
    return str_replace('NULL', 'null', $out);
}

/**
 * The doc comments of the extension's Rust source (bindings-php/src/lib.rs, src/webhook.rs), by PHP name: a
 * class's (`Ipnkit\Decision`) and each method's (`Ipnkit\Decision::deliveryKey`), the `///`
 * lines above each, so that the stub documents what the source documents.
 */
function rust_docs(string $source): array
{
    $docs = [];
    $lines = explode("\n", $source);
    $pending = [];
    $rustToPhp = [];
    $class = null;
    foreach ($lines as $i => $line) {
        $trimmed = trim($line);
        if (str_starts_with($trimmed, '///')) {
            $pending[] = rtrim(substr($trimmed, 4));
            continue;
        }
        if (preg_match('/^#\[php\(name = "Ipnkit\\\\\\\\(\w+)"\)\]/', $trimmed, $m)) {
            $phpName = 'Ipnkit\\' . $m[1];
            $classDoc = $pending;
            continue;
        }
        if (preg_match('/^pub struct (\w+)/', $trimmed, $m) && isset($phpName)) {
            $rustToPhp[$m[1]] = $phpName;
            if (!empty($classDoc)) {
                $docs[$phpName] = $classDoc;
            }
            unset($phpName, $classDoc);
        } elseif (preg_match('/^impl (\w+) \{/', $trimmed, $m)) {
            $class = $rustToPhp[$m[1]] ?? null;
        } elseif (preg_match('/^pub fn (\w+)\(/', $trimmed, $m) && $class !== null && $pending) {
            $docs[$class . '::' . php_method_name($m[1])] = $pending;
        }
        if (!str_starts_with($trimmed, '#[')) {
            $pending = [];
        }
    }
    return $docs;
}

/** The PHP name ext-php-rs gives a Rust method: camelCase, leading underscores kept. */
function php_method_name(string $rust): string
{
    $leading = strspn($rust, '_');
    $rest = substr($rust, $leading);
    return str_repeat('_', $leading) . lcfirst(str_replace('_', '', ucwords($rest, '_')));
}

$docs = rust_docs((string) file_get_contents(__DIR__ . '/src/lib.rs'))
    + rust_docs((string) file_get_contents(__DIR__ . '/src/webhook.rs')) + [
    // The exception classes are built in src/errors.rs, by hand rather than by attributes.
    'Ipnkit\\IpnException::__construct' => ['An error with the core\'s stable code and the field it names.'],
    'Ipnkit\\IpnException::getErrorCode' => ['The core\'s stable code (`duplicate_key`, `wrong_type`…).'],
    'Ipnkit\\IpnException::getField' => ['The variable or configuration key the error names; never its value.'],
    // ext-php-rs's class for Rust closures handed to PHP (the one-call path's curl callback).
    'RustClosure' => ['A Rust function the extension hands to PHP (curl\'s write callback in `Ipn::handle()` and', '`Webhook::handle()`): called by PHP, never made by it.'],
    'RustClosure::__invoke' => ['Calls the Rust function.'],
];

/**
 * What a method returns, more precisely than its reflected type (`mixed`, `string`): the
 * closed lists from the core's schema, and the classes behind a `Zval`.
 */
$codes = fn (array $words): string => implode('|', array_map(fn ($w) => "'$w'", $words));
$eventCodes = array_map(fn ($e) => $e['code'], $schema['events']);
$returns = [
    'Ipnkit\\Decision::action' => [null, $codes($schema['actions'])],
    'Ipnkit\\Decision::why' => [null, $codes($schema['refusals']) . '|null'],
    'Ipnkit\\Decision::amount' => [null, $codes($schema['amount_checks']) . '|null'],
    'Ipnkit\\Decision::reason' => [null, $codes($schema['unexpected']) . '|null'],
    'Ipnkit\\Decision::event' => [null, $codes($eventCodes) . '|null'],
    'Ipnkit\\Decision::family' => [null, $codes($schema['families']) . '|null'],
    'Ipnkit\\Decision::violations' => [null, "list<array{code: string, field?: string, detail?: string}>"],
    'Ipnkit\\Decision::delivery' => [null, "array{kind: " . $codes($schema['deliveries']) . ", from?: string, to?: string}|null"],
    'Ipnkit\\Message::event' => [null, $codes($eventCodes)],
    'Ipnkit\\Message::family' => [null, $codes($schema['families'])],
    'Ipnkit\\Verdict::kind' => [null, $codes($schema['verdicts'])],
    'Ipnkit\\Verdict::reason' => [null, $codes($schema['unexpected']) . '|null'],
    'Ipnkit\\PayPalDate::utc' => ['\\DateTimeImmutable', null],
    'Ipnkit\\WebhookVerdict::kind' => [null, $codes($schema['verdicts'])],
    'Ipnkit\\WebhookVerdict::reason' => [null, $codes(array_merge($schema['webhook_invalid'], $schema['unexpected'])) . '|null'],
];

$extension = new ReflectionExtension('ipnkit');
$classes = $extension->getClasses();
// Parents before children, then by name: a stable order.
uksort($classes, function (string $a, string $b) use ($classes): int {
    $depth = fn (ReflectionClass $c): int => $c->getParentClass() ? 1 : 0;
    return [$depth($classes[$a]), $a] <=> [$depth($classes[$b]), $b];
});

$out = "<?php\n\n// Generated by bindings-php/generate-stub.php from the ipnkit extension " .
    phpversion('ipnkit') . ": do not edit.\n// The extension is native code; this file only tells IDEs and static analysers what it has.\n\nnamespace Ipnkit;\n";
foreach ($classes as $name => $class) {
    $short = $class->getShortName();
    $doc = [];
    if (isset($errorDocs[$name])) {
        [$text, $codes] = $errorDocs[$name];
        $doc[] = $text;
        $doc[] = '';
        $doc[] = 'Codes: ' . implode(', ', $codes) . '.';
    } elseif ($name === 'Ipnkit\\IpnException') {
        $doc[] = 'Every error of ipnkit: getErrorCode() is the core\'s stable code, getField() the variable or key it names (never its value).';
    } elseif (isset($docs[$name])) {
        $doc = $docs[$name];
    }
    if ($name === 'Ipnkit\\Message') {
        $doc[] = '';
        foreach ($kinds as $variable => $kind) {
            $doc[] = '@property-read ' . variable_type($kind) . ' $' . $variable . ' ' . $kind;
        }
    }
    $out .= "\n";
    if ($doc) {
        $out .= "/**\n" . implode("\n", array_map(fn ($l) => rtrim(' * ' . $l), $doc)) . "\n */\n";
    }
    $out .= ($class->isFinal() ? 'final ' : '') . 'class ' . $short;
    if ($parent = $class->getParentClass()) {
        $out .= ' extends \\' . $parent->getName();
    }
    $own = array_diff($class->getInterfaceNames(), $parent ? $parent->getInterfaceNames() : [], ['Stringable']);
    if ($own) {
        $out .= ' implements ' . implode(', ', array_map(fn ($i) => '\\' . $i, $own));
    }
    $out .= "\n{\n";
    foreach ($class->getProperties() as $property) {
        if ($property->getDeclaringClass()->getName() !== $name) {
            continue;
        }
        $out .= '    ' . ($property->isProtected() ? 'protected' : 'public') . ' ' .
            ($property->getName() === 'field' ? '?string' : 'string') . ' $' . $property->getName() . ";\n";
    }
    $methods = array_filter($class->getMethods(), fn ($m) => $m->getDeclaringClass()->getName() === $name);
    usort($methods, fn ($a, $b) => $a->getName() <=> $b->getName());
    // A class PHP cannot instantiate (made by the extension only) says so: a private
    // constructor, where reflection shows ext-php-rs's public one that throws.
    $made = false;
    if (!$class->isSubclassOf(Throwable::class) && $class->getConstructor()?->getNumberOfParameters() === 0) {
        try {
            $class->newInstance();
            $made = true;
        } catch (Throwable) {
        }
    }
    foreach ($methods as $method) {
        $key = $name . '::' . $method->getName();
        $modifiers = implode(' ', Reflection::getModifierNames($method->getModifiers()));
        $params = implode(', ', array_map('parameter', $method->getParameters()));
        if ($method->getName() === '__construct' && $method->getNumberOfParameters() === 0 && !$made && !$class->isSubclassOf(Throwable::class)) {
            $out .= "    /** Made by the extension only: `new` is refused. */\n";
            $out .= "    private function __construct() {}\n";
            continue;
        }
        [$type, $phpdoc] = $returns[$key] ?? [null, null];
        $return = $method->getName() === '__construct' ? '' : ': ' . ($type ?? type_name($method->getReturnType()));
        $lines = $docs[$key] ?? [];
        if ($phpdoc !== null) {
            $lines[] = "@return $phpdoc";
        }
        if ($lines) {
            $out .= "    /**\n" . implode("\n", array_map(fn ($l) => rtrim('     * ' . $l), $lines)) . "\n     */\n";
        }
        $out .= "    $modifiers function {$method->getName()}($params)$return {}\n";
    }
    $out .= "}\n";
}

$path = __DIR__ . '/ipnkit.stub.php';
if (in_array('--check', $argv, true)) {
    if (!is_file($path) || file_get_contents($path) !== $out) {
        fwrite(STDERR, "generate-stub: $path differs from what the extension gives: run php -d extension=PATH " . __FILE__ . " and commit it\n");
        exit(1);
    }
    echo "generate-stub: $path matches the extension\n";
} else {
    file_put_contents($path, $out);
    echo "generate-stub: wrote $path\n";
}
