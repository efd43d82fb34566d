<?php
// The examples' settle job alone (examples/lib/Settler.php), against a verification endpoint
// that answers what each test asks for: what it does with each kind of answer, and that a
// failing action neither stops it nor loses the message.
declare(strict_types=1);

require_once __DIR__ . '/support.php';
require_once ROOT . '/bindings-php/examples/lib/Inbox.php';
require_once ROOT . '/bindings-php/examples/lib/Settler.php';

use Ipnkit\{Config, Decision, Expected, Message};
use IpnkitExample\{Inbox, Settler};
use PHPUnit\Framework\TestCase;

final class SettlerTest extends TestCase
{
    private static Background $endpoint;
    private static string $dir;
    private static int $port;

    public static function setUpBeforeClass(): void
    {
        self::$dir = sys_get_temp_dir() . '/ipnkit-settler-' . bin2hex(random_bytes(4));
        mkdir(self::$dir);
        self::$port = freePort();
        self::$endpoint = Background::start('verify endpoint', [PHP_BINARY, '-S', '127.0.0.1:' . self::$port, __DIR__ . '/fixtures/verify.php'],
            ['VERIFY_LOG' => self::$dir . '/postbacks.log'], self::$dir . '/endpoint.log');
        waitForPort(self::$port, 20, self::$endpoint);
    }

    public static function tearDownAfterClass(): void
    {
        self::$endpoint->stop();
        exec('rm -rf ' . escapeshellarg(self::$dir));
    }

    /** @var list<string> delivery keys acted on */
    private array $acted = [];

    /** A fresh inbox and a settler whose action fails for bodies containing `fail=once` the first time. */
    private function settler(Inbox $inbox): Settler
    {
        $failed = false;
        $config = new Config(['environment' => 'sandbox', 'receiver_emails' => ['shop@example.net'],
            'verify_url_for_testing' => 'http://127.0.0.1:' . self::$port, 'limits' => ['max_body_bytes' => 2000]]);
        return new Settler($inbox, $config,
            expected: fn (Message $m, PDO $db): Expected => Expected::anyAmount(),
            act: function (Message $m, Decision $d, PDO $db) use (&$failed): void {
                if (str_contains($m->raw(), 'fail=once') && !$failed) {
                    $failed = true;
                    throw new RuntimeException('the shop is down');
                }
                $this->acted[] = $d->deliveryKey();
            },
            timeout: 5.0);
    }

    /** @return array<int, array{state: string, detail: ?string, attempts: int}> by id */
    private static function states(Inbox $inbox): array
    {
        $rows = [];
        foreach ($inbox->db->query('SELECT id, state, detail, attempts FROM ipn_message ORDER BY id') as $row) {
            $rows[(int) $row['id']] = ['state' => $row['state'], 'detail' => $row['detail'], 'attempts' => (int) $row['attempts']];
        }
        return $rows;
    }

    public function testEachKindOfAnswerAndAFailingActionEndsWhereItShould(): void
    {
        $inbox = Inbox::open(self::$dir . '/' . $this->getName(false) . '.sqlite');
        $payment = 'receiver_email=shop%40example.net&payment_status=Completed&mc_gross=1.00&mc_currency=EUR&test_ipn=1&txn_id=';
        $ids = [
            'verified' => $inbox->receive($payment . 'T1'),
            'again' => $inbox->receive($payment . 'T1'),
            'invalid' => $inbox->receive($payment . 'T2&answer=invalid'),
            'html' => $inbox->receive($payment . 'T3&answer=html'),
            'redirect' => $inbox->receive($payment . 'T4&answer=redirect'),
            'failing act' => $inbox->receive($payment . 'T5&fail=once'),
            'too large' => $inbox->receive($payment . 'T6&pad=' . str_repeat('x', 2000)),
            'not a form' => $inbox->receive("\x00\xff"),
        ];
        $settler = $this->settler($inbox);
        $log = self::$dir . '/errors.log';
        $previous = ini_set('error_log', $log);
        try {
            $settler->run(fn (): bool => true, untilIdle: true);
        } finally {
            ini_set('error_log', (string) $previous);
        }
        $this->assertStringEndsWith(
            '{"problem":"settle_failed","id":' . $ids['failing act'] . ',"error":"RuntimeException: the shop is down"}' . "\n",
            (string) file_get_contents($log),
        );
        $states = self::states($inbox);
        $this->assertSame(['state' => 'accepted', 'detail' => null, 'attempts' => 0], $states[$ids['verified']]);
        $this->assertSame(['state' => 'duplicate', 'detail' => null, 'attempts' => 0], $states[$ids['again']]);
        $this->assertSame(['state' => 'invalid', 'detail' => null, 'attempts' => 0], $states[$ids['invalid']]);
        // Not PayPal's answer: kept for a later postback, never taken as INVALID, never followed.
        $this->assertSame('received', $states[$ids['html']]['state']);
        $this->assertSame(1, $states[$ids['html']]['attempts']);
        $this->assertSame('received', $states[$ids['redirect']]['state']);
        $this->assertSame(1, $states[$ids['redirect']]['attempts']);
        // The action failed: rolled back, kept, tried again later; the job went on.
        $this->assertSame(['state' => 'received', 'detail' => 'settle_failed', 'attempts' => 1], $states[$ids['failing act']]);
        // Over the limit: never posted back. Not a form: posted back byte for byte (only PayPal
        // can say what it is), and unreadable once verified.
        $this->assertSame(['state' => 'unreadable', 'detail' => 'body_too_large', 'attempts' => 0], $states[$ids['too large']]);
        $this->assertSame(['state' => 'unreadable', 'detail' => 'missing_separator:', 'attempts' => 0], $states[$ids['not a form']]);
        $this->assertSame(['txn:T1:Completed'], $this->acted);
        $postbacks = file(self::$dir . '/postbacks.log', FILE_IGNORE_NEW_LINES);
        $this->assertCount(7, $postbacks, 'one postback per message within the limit');

        // Later, once their backoff has passed (polled: the inbox says they are due), the failing
        // action succeeds; the others are still not answered.
        $deadline = microtime(true) + 10;
        while (count($inbox->due(microtime(true), 10)) < 3) {
            $this->assertLessThan($deadline, microtime(true), 'the postponed messages never came due');
            usleep(10_000);
        }
        $settler->run(fn (): bool => true, untilIdle: true);
        $states = self::states($inbox);
        $this->assertSame(['state' => 'accepted', 'detail' => null, 'attempts' => 1], $states[$ids['failing act']]);
        $this->assertSame(['txn:T1:Completed', 'txn:T5:Completed'], $this->acted);
        $this->assertSame(2, $states[$ids['html']]['attempts']);
        $this->assertSame(0, $inbox->db->query("SELECT count(*) FROM ipn_delivery WHERE delivery_key = 'txn:T5:Completed' AND message_id <> {$ids['failing act']}")->fetchColumn());
    }

    public function testBackoffDoublesFromAFifthOfASecondToFiveMinutes(): void
    {
        $this->assertSame([0.2, 0.4, 0.8, 1.6], array_map([Settler::class, 'backoff'], [1, 2, 3, 4]));
        $this->assertSame(300.0, Settler::backoff(12));
        $this->assertSame(300.0, Settler::backoff(1000));
    }
}
