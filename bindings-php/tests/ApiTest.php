<?php
declare(strict_types=1);

use Ipnkit\Config;
use Ipnkit\Expected;
use Ipnkit\Ipn;
use Ipnkit\IpnException;
use Ipnkit\Verdict;
use PHPUnit\Framework\TestCase;

/** The API in PHP's idioms: errors of every kind, bad input, the decision, the verdicts. */
final class ApiTest extends TestCase
{
    private const PAYMENT = 'txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed'
        . '&mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&first_name=J%F6rg'
        . '&payment_date=09%3A41%3A07+Mar+14%2C+2024+PDT&test_ipn=1';

    private static function config(array $extra = []): Config
    {
        return new Config(['environment' => 'sandbox', 'receiver_emails' => ['shop@example.net']] + $extra);
    }

    /** @return array{string, ?string, string} the code, field and class of what $f throws */
    private static function refusal(callable $f): array
    {
        try {
            $f();
        } catch (IpnException $e) {
            return [$e->getErrorCode(), $e->getField(), get_class($e)];
        }
        throw new RuntimeException('nothing was thrown');
    }

    public function testEveryErrorKindHasItsClassFromTheCoreList(): void
    {
        $errors = Ipn::schema()['errors'];
        $this->assertCount(9, $errors);
        foreach ($errors as $error) {
            $class = 'Ipnkit\\' . substr($error['class'], 0, -strlen('Error')) . 'Exception';
            $this->assertTrue(class_exists($class), $class);
            $this->assertTrue(is_subclass_of($class, IpnException::class), $class);
            $e = new $class('a message', $error['codes'][0], 'a_field');
            $this->assertSame([$error['codes'][0], 'a_field', 'a message'], [$e->getErrorCode(), $e->getField(), $e->getMessage()]);
        }
        $this->assertTrue(is_subclass_of(IpnException::class, RuntimeException::class));
    }

    public function testEachKindIsThrownWithItsCodeAndField(): void
    {
        $tiny = self::config(['limits' => ['max_body_bytes' => 10, 'max_fields' => 2, 'max_key_bytes' => 4]]);
        $cases = [
            [fn () => Ipn::parse('&&&'), ['empty_body', null, 'Ipnkit\BodyException']],
            [fn () => Ipn::parse('a=12345678901', $tiny), ['body_too_large', null, 'Ipnkit\LimitException']],
            [fn () => Ipn::parse('a=1&b=2&c=3', self::config(['limits' => ['max_fields' => 2]])), ['too_many_fields', null, 'Ipnkit\LimitException']],
            [fn () => Ipn::parse('abcde=1', $tiny), ['key_too_long', null, 'Ipnkit\LimitException']],
            [fn () => Ipn::parse('a=%zz'), ['malformed_escape', 'a', 'Ipnkit\FormatException']],
            [fn () => Ipn::parse('charset=utf-8&a=%FF'), ['invalid_encoding', 'a', 'Ipnkit\CharsetException']],
            [fn () => Ipn::parse('mc_gross=1.00&mc_gross=100.00'), ['duplicate_key', 'mc_gross', 'Ipnkit\DuplicateKeyException']],
            [fn () => new Config(['environment' => 'production']), ['invalid_configuration', 'environment', 'Ipnkit\ConfigurationException']],
            [fn () => new Config(['environment' => 'live', 'receiver_emails' => 'shop@example.net']), ['wrong_type', 'receiver_emails', 'Ipnkit\ArgumentException']],
            [fn () => new Expected(['amount' => 24.90, 'currency' => 'EUR']), ['wrong_type', 'amount', 'Ipnkit\ArgumentException']],
            [fn () => new Expected(['currency' => 'EUR']), ['invalid_configuration', 'amount', 'Ipnkit\ConfigurationException']],
        ];
        foreach ($cases as [$f, $expected]) {
            $this->assertSame($expected, self::refusal($f));
        }
    }

    public function testAnErrorNeverEchoesAValue(): void
    {
        try {
            $line = __LINE__ + 1;
            Ipn::parse('payer_email=secret%40buyer.example&payer_email=x');
            $this->fail('a duplicate was accepted');
        } catch (IpnException $e) {
            $this->assertStringNotContainsString('secret', $e->getMessage());
            $this->assertStringNotContainsString('secret', (string) $e);
            $this->assertSame($line, $e->getLine(), 'the exception points at the caller');
        }
    }

    public function testAnArrayIsATypeErrorThatSaysToPassTheRawBody(): void
    {
        foreach ([['txn_id' => '1'], [], 42, null] as $bad) {
            try {
                Ipn::parse($bad);
                $this->fail('a ' . gettype($bad) . ' was accepted');
            } catch (TypeError $e) {
                $this->assertStringContainsString("file_get_contents('php://input')", $e->getMessage());
            }
        }
        $this->expectException(TypeError::class);
        Ipn::postback(['txn_id' => '1']);
    }

    public function testAnyBytesAreAccepted(): void
    {
        // NUL, bytes above 0x7F (windows-1252 by default), CR/LF: kept byte for byte.
        $raw = "custom=a\x00b&memo=\xE9t\xE9\r\n&item_name=%00";
        $m = Ipn::parse($raw);
        $this->assertSame("a\x00b", $m->custom);
        $this->assertSame("été\r\n", $m->memo);
        $this->assertSame("\x00", $m->item_name);
        $this->assertSame('cmd=_notify-validate&' . $raw, $m->postback());
    }

    public function testTypedValues(): void
    {
        $m = Ipn::parse(self::PAYMENT);
        $this->assertSame('payment_completed', $m->event());
        $this->assertSame(['24.90', 'EUR', '24.90 EUR'], [$m->mc_gross->amount(), $m->mc_gross->currency(), (string) $m->mc_gross]);
        $this->assertSame('Jörg', $m->first_name);
        $this->assertTrue($m->test_ipn);
        $this->assertNull($m->auth_id);
        $this->assertFalse(isset($m->auth_id));
        $utc = $m->payment_date->utc();
        $this->assertInstanceOf(DateTimeImmutable::class, $utc);
        $this->assertSame('UTC', $utc->getTimezone()->getName());
        $this->assertSame('2024-03-14T16:41:07+00:00', $utc->format(DATE_ATOM));
        $this->assertSame('09:41:07 Mar 14, 2024 PDT', $m->payment_date->text());
        $this->assertSame(1710434467, $m->payment_date->timestamp());
        $this->assertSame(0, bccomp($m->mc_gross->amount(), '24.9', 2), 'bcmath reads the amount');
        $s = Ipn::parse('txn_type=subscr_signup&subscr_id=I-1&period3=3+M&recur_times=12&mc_amount3=9.99&mc_currency=USD');
        $this->assertSame([3, 'M', '3 M'], [$s->period3->count(), $s->period3->unit(), (string) $s->period3]);
        $this->assertSame(12, $s->recur_times);
    }

    public function testAMessageIsReadOnlyAndAMisspellingIsAnError(): void
    {
        $m = Ipn::parse(self::PAYMENT);
        foreach ([fn () => $m->txn_idd, function () use ($m) { $m->txn_id = 'forged'; }, function () use ($m) { unset($m->txn_id); }] as $f) {
            try {
                $f();
                $this->fail('allowed');
            } catch (Error $e) {
                $this->assertStringContainsString('Ipnkit\\Message::$txn_id', $e->getMessage());
            }
        }
        $this->assertSame('4RT58091KX0312345', $m->txn_id);
        $this->assertSame(['extra_thing' => 'x'], Ipn::parse('txn_type=web_accept&extra_thing=x')->extra());
    }

    public function testAdaptivePaymentsArrayKeysStayAsTheyCame(): void
    {
        $raw = 'transaction_type=Adaptive+Payment+PAY&status=COMPLETED&pay_key=AP-1'
            . '&transaction%5B0%5D.id=9AB&transaction%5B0%5D.amount=USD+10.00&transaction%5B0%5D.status=Completed'
            . '&transaction%5B0%5D.receiver=shop%40example.net';
        $m = Ipn::parse($raw);
        $this->assertSame('cmd=_notify-validate&' . $raw, $m->postback());
        $this->assertSame('9AB', $m->variables()['transaction[0].id']);
        $this->assertSame('9AB', $m->transactions()[0]['id']);
        $this->assertSame(['amount' => '10.00', 'currency' => 'USD'], $m->transactions()[0]['amount']);
    }

    public function testTheVerificationRequestIsForCurl(): void
    {
        $r = Ipn::verificationRequest(self::PAYMENT, self::config());
        $this->assertSame('POST', $r->method());
        $this->assertSame('https://ipnpb.sandbox.paypal.com/cgi-bin/webscr', $r->url());
        $this->assertSame('cmd=_notify-validate&' . self::PAYMENT, $r->body());
        $this->assertSame('Content-Type: application/x-www-form-urlencoded', $r->curlHeaders()[0]);
        $this->assertSame(array_map(fn ($k, $v) => "$k: $v", array_keys($r->headers()), $r->headers()), $r->curlHeaders());
        $live = Ipn::verificationRequest(self::PAYMENT, new Config(['environment' => 'live']));
        $this->assertSame('https://ipnpb.paypal.com/cgi-bin/webscr', $live->url(), 'the configuration decides, never test_ipn');
    }

    public function testVerdicts(): void
    {
        $this->assertSame(['verified', null], [Ipn::verdict(200, "VERIFIED\r\n")->kind(), Ipn::verdict(200, 'VERIFIED')->reason()]);
        $this->assertSame('invalid', Ipn::verdict(200, 'INVALID')->kind());
        $this->assertSame(['unexpected', 'http_status'], [Ipn::verdict(503, 'VERIFIED')->kind(), Ipn::verdict(503, 'VERIFIED')->reason()]);
        $this->assertSame('unrecognized_body', Ipn::verdict(200, '<html>VERIFIED</html>')->reason());
        $this->assertSame('no_answer', Verdict::noAnswer()->reason());
        $this->assertSame('no_answer', Ipn::verdict(null, '')->reason());
        $this->expectException(TypeError::class);
        Ipn::verdict(70000, '');
    }

    /** The IDE stub says what PHP can do: no `new` where PHP refuses it, real types, docs. */
    public function testTheStubTellsTheTruth(): void
    {
        $stub = (string) file_get_contents(dirname(__DIR__) . '/ipnkit.stub.php');
        foreach (['Decision', 'Ipn', 'Message', 'Money', 'PayPalDate', 'Period', 'Verdict', 'VerificationRequest'] as $class) {
            $this->assertMatchesRegularExpression("/class $class\\b[^{]*\\{\\n    \\/\\*\\* Made by the extension only[^\\n]*\\n    private function __construct\\(\\) \\{\\}/", $stub, $class);
            try {
                $made = (new ReflectionClass("Ipnkit\\$class"))->newInstance();
                $this->fail("new $class should be refused");
            } catch (Exception $e) {
                $this->assertStringContainsString('cannot instantiate', $e->getMessage());
            }
        }
        $this->assertStringContainsString('public function utc(): \\DateTimeImmutable {}', $stub);
        $this->assertStringContainsString("@return 'act'|'skip'|'retry'|'refuse'", $stub);
        // Every method is documented.
        $this->assertDoesNotMatchRegularExpression('/\\{\\n    (public|final)[^\\n]*function|\\{\\}\\n    (public|final)[^\\n]*function/', $stub);
    }

    /** var_dump() and print_r() show each object's data, never `(0) {}`. */
    public function testDebuggingShowsTheData(): void
    {
        $m = Ipn::parse(self::PAYMENT);
        $dump = static function (mixed $value): string {
            ob_start();
            var_dump($value);
            return (string) ob_get_clean();
        };
        $this->assertStringContainsString('["mc_gross"]=>', $dump($m));
        $this->assertStringContainsString('string(5) "24.90"', $dump($m->mc_gross));
        $this->assertStringContainsString('["text"]=>', $dump($m->payment_date));
        $this->assertStringContainsString('string(7) "sandbox"', $dump(self::config()));
        $this->assertStringContainsString('["any_amount"]=>', $dump(Expected::anyAmount('EUR')));
        $this->assertStringContainsString('string(8) "verified"', $dump(Ipn::verdict(200, 'VERIFIED')));
        $d = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), self::config(), new Expected(['amount' => '24.90', 'currency' => 'EUR']), []);
        $this->assertStringContainsString('["delivery_key"]=>', $dump($d));
        $this->assertStringContainsString('[url] => https://ipnpb.sandbox.paypal.com/cgi-bin/webscr', print_r($m->verificationRequest(self::config()), true));
        foreach ([$m, $m->mc_gross, self::config(), Expected::noOrder(), Ipn::verdict(200, 'INVALID'), $d] as $object) {
            $this->assertStringNotContainsString('(0) {', $dump($object), get_class($object));
        }
    }

    public function testTheDecision(): void
    {
        $m = Ipn::parse(self::PAYMENT);
        $config = self::config();
        $order = new Expected(['amount' => '24.90', 'currency' => 'EUR']);
        $d = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, $order, []);
        $this->assertSame(['act', [], 'txn:4RT58091KX0312345:Completed', 'new', 'matched', null], [$d->action(), $d->violations(), $d->deliveryKey(), $d->delivery()['kind'], $d->amount(), $d->why()]);
        $this->assertSame($m->deliveryKey(), $d->deliveryKey());
        $this->assertSame($m->lookupId(), $d->lookupId());
        $this->assertSame('skip', Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, $order, [$d->deliveryKey()])->action());
        $retry = Ipn::decide($m, Verdict::noAnswer(), $config, $order, []);
        $this->assertSame(['retry', 'no_answer', null], [$retry->action(), $retry->reason(), $retry->deliveryKey()]);
        $this->assertSame(['action' => 'retry', 'reason' => 'no_answer'], $retry->toArray());
        $invalid = Ipn::decide($m, Ipn::verdict(200, 'INVALID'), $config, $order, []);
        $this->assertSame(['action' => 'refuse', 'why' => 'not_verified'], $invalid->toArray());
        $cheap = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, new Expected(['amount' => '100.00', 'currency' => 'EUR']), []);
        $this->assertSame(['refuse', 'rules', 'amount_mismatch', true], [$cheap->action(), $cheap->why(), $cheap->violations()[0]['code'], $cheap->ours()]);
        $none = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, Expected::noOrder(), []);
        $this->assertSame(['order_not_found'], array_column($none->violations(), 'code'));
        $live = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), new Config(['environment' => 'live', 'receiver_emails' => ['shop@example.net']]), $order, []);
        $this->assertContains('environment_mismatch', array_column($live->violations(), 'code'));
        $this->assertSame($d->toArray(), json_decode(json_encode($d), true));
        // Any amount, said explicitly: the amount is not compared, and the decision says so.
        $donation = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, Expected::anyAmount('EUR'), []);
        $this->assertSame(['act', 'not_asked'], [$donation->action(), $donation->amount()]);
        $this->assertSame('invalid_delivery_key', self::refusal(fn () => Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, $order, ['nonsense']))[0]);
        // A state older than one stored (a Pending after its Completed): stale, with the states
        // it names under the same keys as a transition's (once `latest` and `this` here, against
        // this binding's own doc). Skipped, with a configuration where a Pending is final (else
        // the rules refuse it first).
        $pending = Ipn::parse(str_replace('payment_status=Completed', 'payment_status=Pending&pending_reason=echeck', self::PAYMENT));
        $pendingIsFinal = new Config(['environment' => 'sandbox', 'receiver_emails' => ['shop@example.net'], 'final_statuses' => ['Completed', 'Pending']]);
        $stale = Ipn::decide($pending, Ipn::verdict(200, 'VERIFIED'), $pendingIsFinal, $order, [$d->deliveryKey()]);
        $this->assertSame('skip', $stale->action());
        $this->assertSame(['kind' => 'stale', 'from' => 'Completed', 'to' => 'Pending/echeck'], $stale->delivery());
        $later = Ipn::decide($m, Ipn::verdict(200, 'VERIFIED'), $config, $order, [$pending->deliveryKey()]);
        $this->assertSame(['kind' => 'transition', 'from' => 'Pending/echeck', 'to' => 'Completed'], $later->delivery());
    }

    public function testTheConfiguration(): void
    {
        $c = self::config(['limits' => ['max_fields' => 50]]);
        $this->assertSame('sandbox', $c->environment());
        $this->assertSame(50, $c->limits()['max_fields']);
        $this->assertSame(['invalid_configuration', 'environment', 'Ipnkit\ConfigurationException'], self::refusal(fn () => new Config([])));
        $this->assertSame(['wrong_type', 'environment', 'Ipnkit\ArgumentException'], self::refusal(fn () => new Config(['environment' => new stdClass()])));
        $this->assertSame(['invalid_configuration', 'verify_url', 'Ipnkit\ConfigurationException'], self::refusal(fn () => new Config(['environment' => 'live', 'verify_url' => 'x'])));
    }

    public function testEventsAndSchema(): void
    {
        $events = Ipn::events();
        $this->assertArrayHasKey('payment_completed', $events);
        $this->assertSame(array_column(Ipn::schema()['events'], 'meaning', 'code'), $events);
    }
}
