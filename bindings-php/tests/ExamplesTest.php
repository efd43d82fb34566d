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
            'SHOP_URL' => "http://127.0.0.1:$port",
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

    /**
     * The bytes the sandbox sends for a vector: trailing CR/LF dropped, `test_ipn=1` added if
     * absent, then a `verify_sign` if absent (PayPal signs every notification; the value is the
     * one server/src/sandbox.rs adds).
     */
    private static function asSandboxSends(string $body): string
    {
        $body = rtrim($body, "\r\n");
        $has = static function (string $body, string $key): bool {
            foreach (explode('&', $body) as $pair) {
                if (str_starts_with($pair, $key . '=')) {
                    return true;
                }
            }
            return false;
        };
        if (!$has($body, 'test_ipn')) {
            $body .= '&test_ipn=1';
        }
        if (!$has($body, 'verify_sign')) {
            $body .= '&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz';
        }
        return $body;
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
            $decision = Ipn::decide($message, $verified, $config, Expected::anyAmount(), $stored);
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

    /**
     * Runs a command to its end; returns its exit code, standard output and standard error.
     *
     * @param list<string> $command @param array<string, string> $env
     * @return array{int, string, string}
     */
    private static function runToEnd(array $command, array $env): array
    {
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        if ($process === false) {
            throw new RuntimeException('cannot run ' . implode(' ', $command));
        }
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($process), $out, $err];
    }

    public function testTheCronSettleJobSaysWhatItDidAndNeverStopsSettlingInSilence(): void
    {
        // Issue 35: run once as root, then from cron as www-data, the job could not open the
        // lock file root had made, said "another settle job is running" and exited 0: nothing
        // would ever settle again. A lock it cannot open is an error; "held by another job" is
        // the only quiet case; each run says in one line what it did.
        $db = "{$this->dir}/cron.sqlite";
        $deadPort = freePort(); // nothing listens there: every postback goes unanswered
        $env = ['IPNKIT_DB' => $db, 'IPNKIT_ENV' => 'sandbox', 'IPNKIT_RECEIVER_EMAILS' => self::RECEIVER,
            'IPNKIT_VERIFY_URL' => "http://127.0.0.1:$deadPort", 'IPNKIT_POSTBACK_TIMEOUT' => '2'];
        $settle = [PHP_BINARY, '-d', 'extension=' . extensionFile(), self::EXAMPLES . '/listener/settle.php'];

        [$code, $out, $err] = self::runToEnd($settle, $env);
        $this->assertSame([0, "settle: nothing due\n"], [$code, $out], $err);

        require_once self::EXAMPLES . '/lib/Inbox.php';
        \IpnkitExample\Inbox::open($db)->receive('txn_id=CRON1&payment_status=Completed&verify_sign=A&test_ipn=1');
        [$code, $out, $err] = self::runToEnd($settle, $env);
        $this->assertSame([0, "settle: 1 retried later\n"], [$code, $out], $err);

        // Another job holds the lock: the one quiet case.
        $lock = fopen("$db.settle-lock", 'c');
        $this->assertNotFalse($lock);
        $this->assertTrue(flock($lock, LOCK_EX | LOCK_NB));
        [$code, $out, $err] = self::runToEnd($settle, $env);
        $this->assertSame([0, '', "another settle job is running\n"], [$code, $out, $err]);
        [$code, , $err] = self::runToEnd([...$settle, '--watch'], $env);
        $this->assertSame([1, "another settle job is running\n"], [$code, $err]);
        flock($lock, LOCK_UN);
        fclose($lock);

        // A lock file it cannot open (here a directory in its place; under cron, a file another
        // user made): an error, said, and a failing exit code for cron or systemd to report.
        unlink("$db.settle-lock");
        mkdir("$db.settle-lock");
        [$code, $out, $err] = self::runToEnd($settle, $env);
        $this->assertSame(2, $code, $out . $err);
        $this->assertStringContainsString("settle: cannot open the lock file $db.settle-lock", $err);
        $this->assertSame('', $out);
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

    public function testTheShopConfirmsAnOrderFromItsCaptureNotificationWhenDoCapturesAnswerIsLost(): void
    {
        $sandboxPort = freePort();
        $paypal = "http://127.0.0.1:$sandboxPort";
        $sandbox = $this->start('sandbox', [ipnkitBinary(), 'sandbox', '--listen', "127.0.0.1:$sandboxPort", '--faults', 'all', '--serve']);
        $sandbox->waitFor('/answering postbacks at/', 20, 'its start');
        $shop = $this->serve('shop', $sandboxPort, [
            'PAYPAL_NVP_URL' => "$paypal/nvp",
            'PAYPAL_CHECKOUT_URL' => "$paypal/cgi-bin/webscr",
            'PAYPAL_API_USER' => 'shop_api1.example.net', // the stand-in's merchant: shop@example.net
            'PAYPAL_API_PASSWORD' => 'not-a-secret',
            'PAYPAL_API_SIGNATURE' => 'not-a-secret',
            'PAYPAL_API_TIMEOUT' => '2', // how long a buyer whose answer is lost waits
        ]);

        // Eight buyers, one after another, as a browser goes: the shop's checkout, PayPal's
        // page, back to the shop, which authorizes and captures. The stand-in loses every 4th
        // DoCapture answer after capturing.
        $pages = [];
        foreach (['mug', 'shirt', 'poster', 'shirt', 'mug', 'poster', 'shirt', 'mug'] as $i => $product) {
            [$status, $headers] = http('POST', "$shop/checkout", ['product' => $product]);
            $this->assertSame(303, $status, $this->logs());
            $this->assertStringStartsWith("$paypal/cgi-bin/webscr?cmd=_express-checkout&token=EC-", $headers['location']);
            [$status, $headers] = http('GET', $headers['location']);
            $this->assertSame(302, $status);
            $this->assertStringStartsWith("$shop/return?token=EC-", $headers['location']);
            [$status, , $page] = http('GET', $headers['location']);
            $pages[$i + 1] = [$status, $headers['location']];
        }
        $this->assertSame([1 => 200, 2 => 200, 3 => 200, 4 => 202, 5 => 200, 6 => 200, 7 => 200, 8 => 202], array_map(fn (array $p): int => $p[0], $pages), $this->logs());

        // Every notification delivered (the stand-in's report), every stored one settled.
        $deadline = microtime(true) + 60;
        while (($report = self::report($sandboxPort))['in_flight'] > 0) {
            $this->assertLessThan($deadline, microtime(true), 'notifications still in flight' . $this->logs());
            usleep(100_000);
        }
        $db = $this->inbox('shop');
        $this->waitUntilSettled($db, 60);
        $logs = json_encode($report) . "\n" . $this->logs();
        $this->assertSame(0, $report['abandoned'], $logs);
        $this->assertSame($report['delivered'], $report['acknowledged'], $logs);
        $this->assertGreaterThan(0, $report['faulted'], $logs);

        // Each order paid: the ones whose DoCapture answer was lost by their capture's
        // notification, matched by the authorization id stored before DoCapture.
        $orders = $db->query('SELECT * FROM shop_order ORDER BY id')->fetchAll();
        $this->assertSame(range(1, 8), array_map('intval', array_column($orders, 'id')));
        foreach ($orders as $order) {
            $this->assertSame('paid', $order['state'], json_encode($order) . $logs);
            $this->assertNotNull($order['auth_id']);
            $this->assertNotNull($order['capture_id']);
        }
        $this->assertSame('ipn', $orders[3]['confirmed_by']);
        $this->assertSame('ipn', $orders[7]['confirmed_by']);

        // Acted on once per capture, its amount the order's (checked by ipnkit before acting);
        // each authorization kept, not acted on (Pending is not final); duplicates skipped.
        $messages = $db->query('SELECT body, state, detail, attempts FROM ipn_message ORDER BY settle_order')->fetchAll();
        $config = new Config(['environment' => 'sandbox', 'receiver_emails' => [self::RECEIVER]]);
        $seen = [];
        $settled = []; // each notification once, duplicates aside
        foreach ($messages as $row) {
            $m = Ipn::parse($row['body'], $config);
            $first = !isset($seen[$m->deliveryKey()]);
            $seen[$m->deliveryKey()] = true;
            $expectedState = match (true) {
                !$first => ['duplicate', null],
                $m->event() === 'capture_completed' => ['accepted', null],
                default => ['refused', 'status_not_final'],
            };
            $this->assertSame($expectedState, [$row['state'], $row['detail']], $m->event() . $logs);
            if ($first) {
                $settled[] = [$m->event(), $m->invoice, $m->auth_id, $m->txn_id, (string) $m->mc_gross];
            }
        }
        $expected = [];
        foreach ($orders as $order) {
            $gross = "{$order['amount']} {$order['currency']}";
            $expected[] = ['authorization_created', "order-{$order['id']}", $order['auth_id'], $order['auth_id'], $gross];
            $expected[] = ['capture_completed', "order-{$order['id']}", $order['auth_id'], $order['capture_id'], $gross];
        }
        sort($settled);
        sort($expected);
        $this->assertSame($expected, $settled);
        $events = $db->query('SELECT event, order_id FROM shop_event ORDER BY order_id')->fetchAll(PDO::FETCH_NUM);
        $this->assertSame(array_map(fn (int $id): array => ['capture_completed', $id], range(1, 8)),
            array_map(fn (array $e): array => [$e[0], (int) $e[1]], $events));
        $this->assertContains('duplicate', array_column($messages, 'state'), 'no duplicate notification was caught');
        $this->assertNotEmpty(array_filter($messages, fn (array $r): bool => $r['attempts'] > 0), 'no postback was retried');

        // The buyer of a lost answer comes back: the order is paid, nothing is captured again.
        [$status, , $page] = http('GET', $pages[4][1]);
        $this->assertSame([200, "Paid, thank you. Your order is on its way.\n"], [$status, $page]);
        $this->assertSame($report['delivered'], self::report($sandboxPort)['delivered'], 'a notification after the reload');
    }
}
