<?php
declare(strict_types=1);

use Ipnkit\Config;
use Ipnkit\Expected;
use Ipnkit\HeaderException;
use Ipnkit\Ipn;
use Ipnkit\Webhook;
use Ipnkit\WebhookVerifier;
use PHPUnit\Framework\TestCase;

/**
 * The one-call path: `Ipn::handle()` and `Webhook::handle()` make their HTTP with PHP's curl
 * (against `ipnkit sandbox` and a misbehaving local server) or with the sender given, with the
 * listener's discipline (no redirect, a deadline, the answer capped, no answer a retry), and
 * return the core's decision.
 */
final class OneCallTest extends TestCase
{
    private const BODY = 'txn_type=web_accept&txn_id=ONECALL00000001&payment_status=Completed'
        . '&mc_gross=19.95&mc_currency=USD&receiver_email=shop%40example.net&verify_sign=x&test_ipn=1';
    private const WEBHOOK_ID = 'WH-ONE-CALL-1';

    private static ?Background $sandbox = null;
    private static ?Background $misbehaving = null;
    private static int $sandboxPort = 0;
    private static int $misbehavingPort = 0;

    public static function setUpBeforeClass(): void
    {
        $dir = sys_get_temp_dir() . '/ipnkit-php-one-call-' . getmypid();
        @mkdir($dir);
        self::$sandboxPort = freePort();
        self::$sandbox = Background::start('sandbox', [ipnkitBinary(), 'sandbox', '--listen', '127.0.0.1:' . self::$sandboxPort, '--serve'], [], "$dir/sandbox.log");
        waitForPort(self::$sandboxPort, 30, self::$sandbox);
        // A server that answers too much, redirects, or never answers, by the first part of the
        // path (the verifier posts to BASE/cgi-bin/webscr).
        file_put_contents("$dir/router.php", <<<'PHP'
            <?php
            match (explode('/', (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH))[1] ?? '') {
                'huge' => print(str_repeat('VERIFIED', 10_000)),
                'redirect' => header('Location: https://www.paypal.com/', true, 302),
                'hang' => sleep(30),
                default => print('VERIFIED'),
            };
            PHP);
        self::$misbehavingPort = freePort();
        self::$misbehaving = Background::start('php -S', [PHP_BINARY, '-n', '-S', '127.0.0.1:' . self::$misbehavingPort, "$dir/router.php"], ['PHP_CLI_SERVER_WORKERS' => '4'], "$dir/server.log");
        waitForPort(self::$misbehavingPort, 30, self::$misbehaving);
    }

    public static function tearDownAfterClass(): void
    {
        self::$sandbox?->stop();
        self::$misbehaving?->stop();
    }

    private static function config(string $verifyUrl): Config
    {
        return new Config(['environment' => 'sandbox', 'receiver_emails' => ['shop@example.net'], 'verify_url_for_testing' => $verifyUrl]);
    }

    private static function anyAmount(): Expected
    {
        return new Expected(['any_amount' => true]);
    }

    public function testAnIpnIsPostedBackWithCurlAndDecided(): void
    {
        // The stand-in never delivered these bytes: INVALID, as PayPal would say.
        $decision = Ipn::handle(self::BODY, self::config('http://127.0.0.1:' . self::$sandboxPort), self::anyAmount(), []);
        $this->assertSame(['refuse', 'not_verified'], [$decision->action(), $decision->why()]);
        // VERIFIED (the misbehaving server's default answer): acted on, by curl.
        $ok = self::config('http://127.0.0.1:' . self::$misbehavingPort);
        $decision = Ipn::handle(self::BODY, $ok, self::anyAmount(), []);
        $this->assertSame(['act', 'txn:ONECALL00000001:Completed'], [$decision->action(), $decision->deliveryKey()]);
        $this->assertSame('skip', Ipn::handle(self::BODY, $ok, self::anyAmount(), ['txn:ONECALL00000001:Completed'])->action());
    }

    public function testNoUsableAnswerIsARetryNeverAVerdict(): void
    {
        $base = 'http://127.0.0.1:' . self::$misbehavingPort;
        $cases = [
            // An answer over 64 KiB: cut off while it is read.
            "$base/huge" => 'no_answer',
            // A redirect is an answer, never followed.
            "$base/redirect" => 'http_status',
            // Nothing listens.
            'http://127.0.0.1:9' => 'no_answer',
        ];
        foreach ($cases as $url => $reason) {
            $decision = Ipn::handle(self::BODY, self::config($url), self::anyAmount(), []);
            $this->assertSame(['retry', $reason], [$decision->action(), $decision->reason()], $url);
        }
        // A server that never answers: given up at the deadline.
        $started = microtime(true);
        $decision = Ipn::handle(self::BODY, self::config("$base/hang"), self::anyAmount(), [], null, 0.5);
        $this->assertSame(['retry', 'no_answer'], [$decision->action(), $decision->reason()]);
        $this->assertLessThan(5.0, microtime(true) - $started);
    }

    public function testTheSenderReplacesCurl(): void
    {
        $seen = [];
        $send = function (string $method, string $url, array $headers, ?string $body, float $timeout) use (&$seen): ?array {
            $seen = [$method, $url, $headers, $body, $timeout];
            return [200, 'VERIFIED'];
        };
        $config = self::config('http://127.0.0.1:9');
        $this->assertSame('act', Ipn::handle(self::BODY, $config, self::anyAmount(), [], $send, 7.5)->action());
        $this->assertSame('POST', $seen[0]);
        $this->assertSame('cmd=_notify-validate&' . self::BODY, $seen[3], 'the body, byte for byte');
        $this->assertSame(7.5, $seen[4]);
        $this->assertContains('Content-Type: application/x-www-form-urlencoded', $seen[2]);
        $this->assertSame('no_answer', Ipn::handle(self::BODY, $config, self::anyAmount(), [], fn () => null)->reason());
        foreach ([fn () => 'VERIFIED', fn () => [200], fn () => ['200', 'x']] as $wrong) {
            try {
                Ipn::handle(self::BODY, $config, self::anyAmount(), [], $wrong);
                $this->fail('a sender returning something else is refused');
            } catch (TypeError $e) {
                $this->assertStringContainsString('[int $status, string $body] or null', $e->getMessage());
            }
        }
    }

    /** @return array{string, array<string, string>} a webhook and the headers the stand-in signed it with */
    private static function signed(string $body): array
    {
        $curl = curl_init('http://127.0.0.1:' . self::$sandboxPort . '/sandbox/sign-webhook?webhook_id=' . self::WEBHOOK_ID);
        curl_setopt_array($curl, [CURLOPT_POSTFIELDS => $body, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 10]);
        $answer = json_decode((string) curl_exec($curl), true, 512, JSON_THROW_ON_ERROR);
        return [$body, $answer['headers']];
    }

    private static function verifier(): WebhookVerifier
    {
        $base = 'http://127.0.0.1:' . self::$sandboxPort;
        $ca = (string) file_get_contents("$base/sandbox/webhook-ca.pem");
        return new WebhookVerifier(new Config(['environment' => 'sandbox']), self::WEBHOOK_ID, $ca, null, $base);
    }

    public function testAWebhookIsVerifiedWithTheCertificateFetchedOnceByCurl(): void
    {
        $event = '{"id":"WH-ONE-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"ONECALLCAPTURE1","status":"COMPLETED","amount":{"currency_code":"USD","value":"19.95"}}}';
        [$body, $headers] = self::signed($event);
        $config = new Config(['environment' => 'sandbox', 'receiver_emails' => ['shop@example.net']]);
        $certificates = new ArrayObject();
        $decision = Webhook::handle($body, $headers, $config, self::verifier(), self::anyAmount(), [], $certificates);
        $this->assertSame(['act', 'txn:ONECALLCAPTURE1:Completed'], [$decision->action(), $decision->deliveryKey()]);
        $this->assertCount(1, $certificates, 'the certificate kept under its cache key');
        // Kept: not fetched again (a sender that fails the test if called).
        $never = function (): never {
            throw new LogicException('fetched again');
        };
        $again = Webhook::handle($body, $headers, $config, self::verifier(), self::anyAmount(), ['txn:ONECALLCAPTURE1:Completed'], $certificates, $never);
        $this->assertSame('skip', $again->action());
        // The body re-formatted after signing: refused.
        $pretty = json_encode(json_decode($body), JSON_PRETTY_PRINT);
        $refused = Webhook::handle($pretty, $headers, $config, self::verifier(), self::anyAmount(), [], $certificates, $never);
        $this->assertSame(['refuse', 'not_verified'], [$refused->action(), $refused->why()]);
        // A certificate that cannot be had: retry.
        $retry = Webhook::handle($body, $headers, $config, self::verifier(), self::anyAmount(), [], new ArrayObject(), fn () => null);
        $this->assertSame(['retry', 'no_answer'], [$retry->action(), $retry->reason()]);
        // PayPal's headers missing: the header named.
        try {
            Webhook::handle($body, [], $config, self::verifier(), self::anyAmount(), []);
            $this->fail('a webhook without headers is refused');
        } catch (HeaderException $e) {
            $this->assertSame(['missing_header', 'PAYPAL-TRANSMISSION-ID'], [$e->getErrorCode(), $e->getField()]);
        }
        $this->expectException(TypeError::class);
        Webhook::handle($body, $headers, $config, self::verifier(), self::anyAmount(), [], new stdClass());
    }
}
