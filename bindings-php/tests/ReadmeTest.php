<?php
declare(strict_types=1);

require_once __DIR__ . '/support.php';

use PHPUnit\Framework\TestCase;

/** The README's PHP section, executed as written, with assertions live. */
final class ReadmeTest extends TestCase
{
    /** @return list<string> the ```php blocks of the README's PHP section */
    private static function blocks(): array
    {
        $readme = file_get_contents(ROOT . '/README.md');
        if (!preg_match('/^## PHP\n(.*?)^## /ms', $readme, $section)) {
            throw new RuntimeException('the README has no PHP section');
        }
        preg_match_all('/^```php\n(.*?)^```/ms', $section[1], $blocks);
        if (!$blocks[1]) {
            throw new RuntimeException("the README's PHP section has no php example");
        }
        return $blocks[1];
    }

    /** Runs $code in a new PHP process with this extension and assertions that throw. */
    private static function runPhp(string $code): array
    {
        $file = tempnam(sys_get_temp_dir(), 'ipnkit-readme');
        file_put_contents($file, $code);
        $command = [PHP_BINARY, '-n', '-d', 'extension=' . extensionFile(), '-d', 'zend.assertions=1',
            '-d', 'assert.exception=1', $file];
        exec(implode(' ', array_map('escapeshellarg', $command)) . ' 2>&1', $output, $status);
        unlink($file);
        return [$status, implode("\n", $output)];
    }

    public function testTheExamplesRunAsWritten(): void
    {
        foreach (self::blocks() as $i => $code) {
            [$status, $output] = self::runPhp($code);
            $this->assertSame(0, $status, "README PHP example #$i:\n$output");
        }
    }

    public function testTheExamplesWouldFailIfTheyWereWrong(): void
    {
        // The examples with one expectation (or PayPal's answer) changed must fail: their
        // asserts are live.
        $changes = [
            "->amount() === '24.90'" => "->amount() === '24.91'",
            "[200, 'VERIFIED'] : [200, 'INVALID']" => "[200, 'INVALID'] : [200, 'VERIFIED']",
        ];
        foreach ($changes as $from => $to) {
            $code = current(array_filter(self::blocks(), fn (string $b): bool => str_contains($b, $from)));
            $this->assertIsString($code, "no README PHP example has $from");
            [$status] = self::runPhp(str_replace($from, $to, $code));
            $this->assertNotSame(0, $status, "changed to $to, the example still passes");
        }
    }
}
