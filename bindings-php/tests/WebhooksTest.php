<?php
declare(strict_types=1);

use Ipnkit\Config;
use Ipnkit\Expected;
use Ipnkit\HeaderException;
use Ipnkit\Ipn;
use Ipnkit\IpnException;
use Ipnkit\Webhook;
use Ipnkit\WebhookVerdict;
use Ipnkit\WebhookVerifier;
use PHPUnit\Framework\TestCase;

/**
 * PayPal REST webhooks from PHP: every signed delivery of ../shared/webhooks verifies at its
 * transmission time, each source-asserted negative and each change is refused with the core's
 * code, and each event is the core's golden array (tests/webhooks/NAME.json).
 */
final class WebhooksTest extends TestCase
{
    private const PLACEHOLDER = 'sdk-java-test_2017-03-30_billing-plan-created';
    private const HEADERS = [
        'transmission_id' => 'Paypal-Transmission-Id',
        'transmission_time' => 'Paypal-Transmission-Time',
        'transmission_sig' => 'Paypal-Transmission-Sig',
        'cert_url' => 'Paypal-Cert-Url',
        'auth_algo' => 'Paypal-Auth-Algo',
    ];

    private static function dir(): string
    {
        $dir = getenv('IPNKIT_WEBHOOKS') ?: ROOT . '/../shared/webhooks';
        if (!is_file("$dir/SOURCES.md")) {
            throw new RuntimeException("the webhook vectors are missing at $dir (set IPNKIT_WEBHOOKS)");
        }
        return $dir;
    }

    /** @return list<array{name: string, facts: array, body: string, pem: string}> */
    private static function vectors(): array
    {
        $out = [];
        foreach (files(self::dir() . '/*.json') as $path) {
            $facts = json_decode((string) file_get_contents($path), true, 512, JSON_THROW_ON_ERROR);
            $out[] = [
                'name' => basename($path, '.json'),
                'facts' => $facts,
                'body' => (string) file_get_contents(self::dir() . '/' . $facts['body_file']),
                'pem' => (string) file_get_contents(self::dir() . '/' . $facts['cert_file']),
            ];
        }
        return $out;
    }

    /** getallheaders()'s shape, with `$changes` (snake_case keys of NAME.json). */
    private static function headers(array $v, array $changes = []): array
    {
        $values = [];
        foreach (self::HEADERS as $key => $name) {
            $values[$key] = $v['facts'][$key];
        }
        if ($v['name'] === self::PLACEHOLDER) { // the URL is not signed: one of PayPal's form
            $values['cert_url'] = 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-placeholder';
        }
        $out = ['Host' => 'shop.example', 'Content-Type' => 'application/json'];
        foreach (array_merge($values, $changes) as $key => $value) {
            $out[self::HEADERS[$key]] = $value;
        }
        return $out;
    }

    private static function config(array $v): Config
    {
        $env = str_contains($v['facts']['cert_url'], '.sandbox.') ? 'sandbox' : 'live';
        return new Config(['environment' => $env, 'receiver_emails' => ['shop@example.com']]);
    }

    private static function sentAt(array $v): int
    {
        return (new DateTimeImmutable($v['facts']['transmission_time']))->getTimestamp();
    }

    private static function verdict(array $v, ?string $body = null, ?array $headers = null, ?string $webhookId = null): WebhookVerdict
    {
        $webhook = Webhook::receive($body ?? $v['body'], $headers ?? self::headers($v));
        $verifier = new WebhookVerifier(self::config($v), $webhookId ?? $v['facts']['webhook_id']);
        return $webhook->verify($verifier, 200, $v['pem'], self::sentAt($v));
    }

    public function testEveryVectorVerifiesAtItsTransmissionTime(): void
    {
        $vectors = self::vectors();
        $this->assertCount(19, $vectors);
        foreach ($vectors as $v) {
            $webhook = Webhook::receive($v['body'], self::headers($v));
            $verifier = new WebhookVerifier(self::config($v), $v['facts']['webhook_id']);
            $request = $webhook->certificateRequest($verifier);
            $this->assertNotNull($request, $v['name']);
            $this->assertSame($request->url(), $request->cacheKey());
            $verdict = $webhook->verify($verifier, 200, $v['pem'], self::sentAt($v));
            $this->assertSame(['verified', null, true], [$verdict->kind(), $verdict->reason(), $verdict->isVerified()], $v['name']);
        }
    }

    public function testEachChangeIsRefusedWithTheCoresCode(): void
    {
        foreach (self::vectors() as $v) {
            $pretty = json_encode(json_decode($v['body']), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            $this->assertSame('signature_mismatch', self::verdict($v, body: $pretty)->reason(), $v['name']);
            $this->assertSame('signature_mismatch', self::verdict($v, body: $v['body'] . "\n")->reason(), $v['name']);
            $this->assertSame('signature_mismatch', self::verdict($v, webhookId: 'WRONG')->reason(), $v['name']);
            $url = self::headers($v)['Paypal-Cert-Url'];
            $evil = str_replace('.paypal.com/', '.paypal.com.evil/', $url);
            $webhook = Webhook::receive($v['body'], self::headers($v, ['cert_url' => $evil]));
            $verifier = new WebhookVerifier(self::config($v), $v['facts']['webhook_id']);
            $this->assertNull($webhook->certificateRequest($verifier));
            $this->assertSame('cert_url_host', $webhook->verify($verifier, 0, '', self::sentAt($v))->reason());
        }
    }

    public function testTheSourceAssertedNegativesAreRefused(): void
    {
        $cases = 0;
        foreach (self::vectors() as $v) {
            foreach ($v['facts']['source_negative_cases'] ?? [] as $case) {
                $cases++;
                $change = $case['change'];
                $body = $v['body'];
                if (isset($change['body_file'])) {
                    $body = (string) file_get_contents(self::dir() . '/' . $change['body_file']);
                    unset($change['body_file']);
                }
                if (array_key_exists('body', $change)) {
                    $body = (string) $change['body'];
                    unset($change['body']);
                }
                $webhookId = $change['webhook_id'] ?? null;
                unset($change['webhook_id']);
                $verdict = self::verdict($v, $body, self::headers($v, $change), $webhookId);
                $want = isset($case['change']['auth_algo']) ? 'unsupported_algorithm' : 'signature_mismatch';
                $this->assertSame(['invalid', $want], [$verdict->kind(), $verdict->reason()], "{$v['name']}: {$case['case']}");
            }
        }
        $this->assertSame(9, $cases);
    }

    public function testEachEventIsTheCoresGoldenArray(): void
    {
        foreach (self::vectors() as $v) {
            $golden = json_decode((string) file_get_contents(ROOT . "/tests/webhooks/{$v['name']}.json"), true, 512, JSON_THROW_ON_ERROR);
            $event = Webhook::receive($v['body'], self::headers($v))->event();
            $this->assertSame($golden, $event, $v['name']);
        }
    }

    public function testHeaderErrorsNameTheHeaderNeverTheValue(): void
    {
        $v = self::vectors()[0];
        $headers = self::headers($v);
        unset($headers['Paypal-Cert-Url']);
        try {
            Webhook::receive($v['body'], $headers);
            $this->fail('a missing header was accepted');
        } catch (HeaderException $e) {
            $this->assertSame(['missing_header', 'PAYPAL-CERT-URL'], [$e->getErrorCode(), $e->getField()]);
        }
        $headers = self::headers($v);
        $headers['paypal-cert-url'] = [$headers['Paypal-Cert-Url']];
        try {
            Webhook::receive($v['body'], $headers);
            $this->fail('a repeated header was accepted');
        } catch (HeaderException $e) {
            $this->assertSame('repeated_header', $e->getErrorCode());
        }
        try {
            Webhook::receive($v['body'], self::headers($v, ['transmission_time' => 'yesterday-secret']));
            $this->fail('a malformed time was accepted');
        } catch (HeaderException $e) {
            $this->assertSame(['invalid_header', 'PAYPAL-TRANSMISSION-TIME'], [$e->getErrorCode(), $e->getField()]);
            $this->assertStringNotContainsString('secret', $e->getMessage());
        }
        $this->expectException(TypeError::class);
        Webhook::receive(json_decode($v['body'], true), self::headers($v));
    }

    public function testACertificateThatCannotBeHadIsRetryLater(): void
    {
        $v = self::vectors()[0];
        $webhook = Webhook::receive($v['body'], self::headers($v));
        $verifier = new WebhookVerifier(self::config($v), $v['facts']['webhook_id']);
        foreach ([[500, $v['pem'], 'http_status'], [200, '', 'empty_body'], [200, '<html>busy</html>', 'unrecognized_body']] as [$status, $body, $reason]) {
            $verdict = $webhook->verify($verifier, $status, $body, self::sentAt($v));
            $this->assertSame(['unexpected', $reason], [$verdict->kind(), $verdict->reason()]);
        }
        $this->assertSame('no_answer', WebhookVerdict::noAnswer()->reason());
    }

    public function testDecisionsActOnceAndShareIpnsKeys(): void
    {
        $v = current(array_filter(self::vectors(), fn ($v) => $v['name'] === 'paypal2_2024-07-30_payment-sale-refunded'));
        $webhook = Webhook::receive($v['body'], self::headers($v));
        $config = self::config($v);
        $verifier = new WebhookVerifier($config, $v['facts']['webhook_id']);
        $verdict = $webhook->verify($verifier, 200, $v['pem'], self::sentAt($v));
        $first = Ipn::decideWebhook($webhook, $verdict, $config, Expected::anyAmount(), []);
        $this->assertSame(['act', 'payment_refunded'], [$first->action(), $first->event()]);
        $id = $webhook->event()['resource']['id'];
        $this->assertSame("txn:$id:Refunded", $first->deliveryKey());
        $again = Ipn::decideWebhook($webhook, $verdict, $config, Expected::anyAmount(), [$first->deliveryKey()]);
        $this->assertSame(['skip', 'duplicate'], [$again->action(), $again->delivery()['kind']]);
        $ipn = Ipn::parse("txn_id=$id&payment_status=Refunded&mc_gross=-0.01&mc_currency=USD&receiver_email=shop%40example.com");
        $this->assertSame($first->deliveryKey(), $ipn->deliveryKey());
        $bad = self::verdict($v, webhookId: 'WRONG');
        $refused = Ipn::decideWebhook($webhook, $bad, $config, Expected::anyAmount(), []);
        $this->assertSame(['refuse', 'not_verified'], [$refused->action(), $refused->why()]);
        try {
            Webhook::receive('{"id":"a","id":"b"}', self::headers($v))->event();
            $this->fail('a duplicated key was accepted');
        } catch (IpnException $e) {
            $this->assertSame(['duplicate_key', 'id'], [$e->getErrorCode(), $e->getField()]);
        }
    }

    public function testAStandInsCertificatesOnlyByTheTestOptionAndNeverInLive(): void
    {
        try {
            new WebhookVerifier(new Config(['environment' => 'live']), 'WH', null, null, 'http://127.0.0.1:8081');
            $this->fail('a test certificate base was accepted in live');
        } catch (IpnException $e) {
            $this->assertSame(['invalid_configuration', 'certificate_base_for_testing'], [$e->getErrorCode(), $e->getField()]);
        }
        $v = self::vectors()[0];
        $url = 'http://127.0.0.1:8081/v1/notifications/certs/CERT-ipnkit-sandbox';
        $webhook = Webhook::receive($v['body'], self::headers($v, ['cert_url' => $url]));
        $sandbox = new Config(['environment' => 'sandbox']);
        $this->assertNull($webhook->certificateRequest(new WebhookVerifier($sandbox, 'WH')));
        $local = new WebhookVerifier($sandbox, 'WH', null, null, 'http://127.0.0.1:8081');
        $this->assertSame($url, $webhook->certificateRequest($local)->url());
    }
}
