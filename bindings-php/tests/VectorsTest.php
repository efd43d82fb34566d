<?php
declare(strict_types=1);

use Ipnkit\Ipn;
use PHPUnit\Framework\TestCase;

/** Every shared vector and corpus message: the golden JSON, the decoded variables, the postback. */
final class VectorsTest extends TestCase
{
    /** @return iterable<string, array{string, string}> */
    public static function messages(): iterable
    {
        foreach (files(VECTORS . '/*.body') as $body) {
            yield basename($body) => [$body, substr($body, 0, -5) . '.json'];
        }
        foreach (files(CORPUS . '/*.body') as $body) {
            yield 'corpus/' . basename($body) => [$body, VECTORS . '/corpus/' . basename($body, '.body') . '.json'];
        }
    }

    /** @dataProvider messages */
    public function testTheCanonicalJsonIsTheGolden(string $body, string $golden): void
    {
        $raw = file_get_contents($body);
        $m = Ipn::parse($raw);
        $expected = json_decode(file_get_contents($golden), true, 512, JSON_THROW_ON_ERROR);
        // Same keys in the same order, same types: === on arrays.
        $this->assertSame($expected, $m->toArray());
        $this->assertSame($expected, json_decode($m->toJson(), true));
        $this->assertSame($m->toJson(), json_encode($m, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
        $this->assertSame('cmd=_notify-validate&' . $raw, $m->postback());
        $this->assertSame('cmd=_notify-validate&' . $raw, Ipn::postback($raw));
        $this->assertSame($raw, $m->raw());
    }

    /** @dataProvider messages */
    public function testEveryTypedReadAgreesWithTheCanonicalJson(string $body, string $golden): void
    {
        $m = Ipn::parse(file_get_contents($body));
        $canonical = $m->toArray();
        $this->assertSame($canonical['event'], $m->event());
        $this->assertSame($canonical['family'], $m->family());
        $read = 0;
        foreach (Ipn::schema()['variables'] as ['name' => $name, 'kind' => $kind]) {
            $value = $m->$name;
            $this->assertSame(array_key_exists($name, $canonical), isset($m->$name), $name);
            if ($value === null) {
                continue;
            }
            $read++;
            $json = $canonical[$name];
            match ($kind) {
                'money' => $this->assertSame($json, ['amount' => $value->amount(), 'currency' => $value->currency()], $name),
                'date' => $this->assertSame($json, ['utc' => $value->utc()->format('Y-m-d\TH:i:s\Z'), 'text' => $value->text()], $name),
                'period' => $this->assertSame($json, ['count' => $value->count(), 'unit' => $value->unit()], $name),
                default => $this->assertSame($json, $value, $name),
            };
        }
        $this->assertGreaterThan(0, $read, 'a message with no modelled variable');
    }

    /** @return iterable<string, array{string}> */
    public static function fieldFiles(): iterable
    {
        foreach (files(VECTORS . '/*.fields.json') as $fields) {
            yield basename($fields) => [$fields];
        }
    }

    /** @dataProvider fieldFiles */
    public function testTheVariablesAreWhatAnIndependentDecoderRead(string $fields): void
    {
        $m = Ipn::parse(file_get_contents(substr($fields, 0, -strlen('.fields.json')) . '.body'));
        $pairs = json_decode(file_get_contents($fields), true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame(array_column($pairs, 1, 0), $m->variables());
        $this->assertCount(count($pairs), $m->variables(), 'a name given twice');
    }

    /** @return iterable<string, array{string, string}> */
    public static function malformed(): iterable
    {
        foreach (files(VECTORS . '/malformed/*.body') as $body) {
            yield basename($body) => [$body, explode('--', basename($body))[0]];
        }
    }

    /** @dataProvider malformed */
    public function testAMalformedBodyIsRefusedWithItsCodeButPostsBack(string $body, string $code): void
    {
        $raw = file_get_contents($body);
        try {
            Ipn::parse($raw);
            $this->fail("$body was accepted");
        } catch (Ipnkit\IpnException $e) {
            $this->assertSame($code, $e->getErrorCode());
            $kind = self::kindOf($code);
            $this->assertInstanceOf('Ipnkit\\' . $kind . 'Exception', $e);
        }
        if ($code !== 'empty_body') {
            // Nothing to post back for an empty body; everything else posts back as received.
            $this->assertSame('cmd=_notify-validate&' . $raw, Ipn::postback($raw));
        }
    }

    public static function kindOf(string $code): string
    {
        foreach (Ipn::schema()['errors'] as $error) {
            if (in_array($code, $error['codes'], true)) {
                return substr($error['class'], 0, -strlen('Error'));
            }
        }
        throw new RuntimeException("no error kind has the code $code");
    }
}
