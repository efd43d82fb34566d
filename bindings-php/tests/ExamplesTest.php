<?php
// The examples (bindings-php/examples/), end to end on loopback: each served by `php -S` with the
// extension under test, its settle job running beside it, and `ipnkit sandbox` playing PayPal
// with every fault on (slow, 503, HTML and dropped postbacks; duplicate and reordered deliveries;
// lost DoCapture answers).
declare(strict_types=1);

require_once __DIR__ . '/support.php';

use Ipnkit\{Config, Expected, Ipn};
use PHPUnit\Framework\TestCase;

final class ExamplesTest extends TestCase
{
    private const RECEIVER = 'shop@example.net';
    private const EXAMPLES = ROOT . '/bindings-php/examples';

    private string $dir = '';
    /** @var list<Background> */
    private array $running = [];

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/ipnkit-php-examples-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
    }

    protected function tearDown(): void
    {
        foreach (array_reverse($this->running) as $process) {
            $process->stop();
        }
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    /** @param list<string> $command @param array<string, string> $env */
    private function start(string $name, array $command, array $env = []): Background
    {
        $process = Background::start($name, $command, $env, "{$this->dir}/$name.log");
        $this->running[] = $process;
        return $process;
    }

    /** Every log, for a failure's message. */
    private function logs(): string
    {
        $text = '';
        foreach ($this->running as $process) {
            $text .= "--- {$process->log}\n" . substr($process->output(), -4000) . "\n";
        }
        return $text;
    }

    /**
     * An example's web server (`php -S`, four workers as FPM would have) and its settle job
     * (`--watch`), with the settings of Settings.php; returns the server's base URL.
     *
     * @param array<string, string> $more
     */
    private function serve(string $example, int $sandboxPort, array $more = []): string
    {
        $port = freePort();
        $env = [
            'IPNKIT_DB' => "{$this->dir}/$example.sqlite",
            'IPNKIT_ENV' => 'sandbox',
            'IPNKIT_RECEIVER_EMAILS' => self::RECEIVER,
            'IPNKIT_VERIFY_URL' => "http://127.0.0.1:$sandboxPort",
            'IPNKIT_POSTBACK_TIMEOUT' => '5',
            'PHP_CLI_SERVER_WORKERS' => '4',
        ] + $more;
        $php = [PHP_BINARY, '-d', 'extension=' . extensionFile()];
        $server = $this->start("$example-server", [...$php, '-d', 'enable_post_data_reading=0', '-S', "127.0.0.1:$port",
            self::EXAMPLES . "/$example/index.php"], $env);
        waitForPort($port, 20, $server);
        $this->start("$example-settle", [...$php, self::EXAMPLES . "/$example/settle.php", '--watch'], $env);
        return "http://127.0.0.1:$port";
    }

    /** The example's inbox, read only (the example owns it). */
    private function inbox(string $example): PDO
    {
        return new PDO("sqlite:{$this->dir}/$example.sqlite", null, null, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC, PDO::ATTR_TIMEOUT => 10]);
    }

    /** Waits until every stored message is settled. */
    private function waitUntilSettled(PDO $db, float $seconds): void
    {
        $deadline = microtime(true) + $seconds;
        while (($left = (int) $db->query("SELECT count(*) FROM ipn_message WHERE state = 'received'")->fetchColumn()) > 0) {
            if (microtime(true) > $deadline) {
                $this->fail("$left messages left unsettled after {$seconds} s\n" . $this->logs());
            }
            usleep(100_000);
        }
    }

    /** @return array<string, int> the sandbox's report */
    private static function report(int $sandboxPort): array
    {
        [$status, , $body] = http('GET', "http://127.0.0.1:$sandboxPort/sandbox/report");
        self::assertSame(200, $status);
        return json_decode($body, true, flags: JSON_THROW_ON_ERROR);
    }

    /** The bytes the sandbox sends for a vector: trailing CR/LF dropped, `test_ipn=1` added if absent. */
    private static function asSandboxSends(string $body): string
    {
        $body = rtrim($body, "\r\n");
        foreach (explode('&', $body) as $pair) {
            if (str_starts_with($pair, 'test_ipn=')) {
                return $body;
            }
        }
        return $body . '&test_ipn=1';
    }

    /**
     * What the listener must have done with each stored delivery, replayed in the order it
     * settled them: the state ipnkit's decision gives against the keys accepted before it.
     *
     * @param list<array{body: string}> $settled
     * @return list<array{state: string, detail: ?string}>
     */
    private static function expectedStates(array $settled): array
    {
        $config = new Config(['environment' => 'sandbox', 'receiver_emails' => [self::RECEIVER]]);
        $verified = Ipn::verdict(200, 'VERIFIED');
        $accepted = []; // lookup id => keys, oldest first
        $expected = [];
        foreach ($settled as $row) {
            $message = Ipn::parse($row['body'], $config);
            $stored = $accepted[$message->lookupId()] ?? [];
            $decision = Ipn::decide($message, $verified, $config, Expected::noAmount(), $stored);
            $expected[] = match ($decision->action()) {
                'act' => ['state' => 'accepted', 'detail' => null],
                'skip' => ['state' => $decision->delivery()['kind'], 'detail' => null],
                'refuse' => ['state' => 'refused', 'detail' => implode(',', array_column($decision->violations(), 'code'))],
                default => throw new LogicException('a verified message cannot be ' . $decision->action()),
            };
            if ($decision->action() === 'act') {
                $accepted[$message->lookupId()] = [...$stored, $decision->deliveryKey()];
            }
        }
        return $expected;
    }

    public function testThePlainListenerSettlesEveryDeliveryAsTheRulesSayAndActsOnEachOnce(): void
    {
        $sandboxPort = freePort();
        $url = $this->serve('listener', $sandboxPort) . '/ipn';
        $sandbox = $this->start('sandbox', [ipnkitBinary(), 'sandbox', '--listen', "127.0.0.1:$sandboxPort", '--deliver-to', $url,
            '--faults', 'all', '--linger', '0', '--serve', VECTORS]);
        // The sandbox ends its progress line once every delivery (retries, duplicates) is made.
        $sandbox->waitFor('/delivered (\d+)\/\1\n/', 120, 'the end of deliveries');
        $db = $this->inbox('listener');
        $this->waitUntilSettled($db, 60);
        $report = self::report($sandboxPort);
        $settled = $db->query('SELECT body, state, detail, delivery_key, attempts FROM ipn_message ORDER BY settle_order')->fetchAll();
        $events = $db->query('SELECT delivery_key FROM listener_event ORDER BY delivery_key')->fetchAll(PDO::FETCH_COLUMN);
        $logs = json_encode($report) . "\n" . $this->logs();

        // The sandbox's side: every delivery acknowledged, faults injected, duplicates sent.
        $vectors = array_map(fn (string $f): string => self::asSandboxSends((string) file_get_contents($f)), files(VECTORS . '/*.body'));
        $this->assertSame(0, $report['abandoned'], $logs);
        $this->assertSame($report['delivered'], $report['acknowledged'], $logs);
        $this->assertGreaterThan(0, $report['faulted'], $logs);
        $this->assertGreaterThan(count($vectors), $report['delivered'], 'duplicates were delivered');

        // Stored: every delivery, byte for byte, and nothing else.
        $this->assertCount($report['delivered'], $settled, 'one stored message per acknowledged delivery');
        $bodies = array_count_values(array_column($settled, 'body'));
        foreach ($vectors as $vector) {
            $this->assertArrayHasKey($vector, $bodies, 'a vector was never stored: ' . substr($vector, 0, 60));
        }
        $this->assertSame(count($settled), array_sum(array_intersect_key($bodies, array_flip($vectors))), 'a stored body that was never sent');

        // Settled: each exactly as ipnkit's rules say, in the order it happened (none invalid,
        // none unreadable, none left), some only after a postback without a real answer.
        $this->assertSame(
            self::expectedStates($settled),
            array_map(fn (array $r): array => ['state' => $r['state'], 'detail' => $r['detail']], $settled),
            $logs,
        );
        $this->assertNotEmpty(array_filter($settled, fn (array $r): bool => $r['attempts'] > 0), 'no message was retried after an unexpected answer');
        $this->assertContains('duplicate', array_column($settled, 'state'), 'no duplicate delivery was caught');

        // Acted on: one event per accepted message, as a list (an event twice fails).
        $accepted = array_column(array_filter($settled, fn (array $r): bool => $r['state'] === 'accepted'), 'delivery_key');
        sort($accepted);
        $this->assertSame($accepted, $events);
        $this->assertSame(count($accepted), count(array_unique($accepted)), 'a delivery key accepted twice');
        $this->assertGreaterThan(20, count($accepted));
    }
}
