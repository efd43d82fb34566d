<?php
// The settle job: posts each stored body back to PayPal with curl, reads the verdict, and lets
// ipnkit decide (verified, paid to this shop, right environment, final status, amount and
// currency, not acted on before). A postback without a real answer (a timeout, a 503, an HTML
// page, a redirect, a closed connection) keeps the message for a later try, with backoff; it is
// never dropped and never taken as INVALID. Postbacks run side by side (curl_multi), each with
// its own deadline: one that hangs delays no other message.
//
// Run it from cron (`php settle.php`: works through what is due, then exits) or as a service
// (`php settle.php --watch`: until SIGTERM, which lets the postbacks in flight finish).
declare(strict_types=1);

namespace IpnkitExample;

use Closure;
use CurlHandle;
use CurlMultiHandle;
use Ipnkit\{Config, Decision, Expected, Ipn, IpnException, Message, Verdict};
use PDO;

final class Settler
{
    /** The longest PayPal answer read: a verdict is a word; anything longer is not one. */
    private const MAX_ANSWER_BYTES = 65536;

    /** @var array<int, array{handle: CurlHandle, id: int, body: string, attempts: int, answer: string}> by handle id */
    private array $inFlight = [];

    /** @var array<string, int> what this job did, by outcome (accepted, refused, retried, …) */
    private array $done = [];

    /**
     * @param Closure(Message, PDO): ?Expected $expected  what the message should pay (your order,
     *        looked up by invoice, custom or auth_id), Expected::anyAmount() when it pays no order,
     *        null when it names an order you do not have (kept as `unmatched` for a person)
     * @param Closure(Message, Decision, PDO): void $act  acts on an accepted notification, inside
     *        the transaction that records it: write to $db only, or be idempotent on
     *        $decision->deliveryKey()
     */
    public function __construct(
        private readonly Inbox $inbox,
        private readonly Config $config,
        private readonly Closure $expected,
        private readonly Closure $act,
        private readonly float $timeout = 30.0,
        private readonly int $concurrency = 8,
    ) {
    }

    /**
     * The job from the command line: one job at a time per inbox (a second one exits at once:
     * 0 under cron, 1 with --watch), until idle (cron) or SIGTERM/SIGINT (--watch), which let
     * the postbacks in flight finish. Prints one line of what it did on standard output when it
     * ends. A lock file it cannot open or lock (permissions: the job run as another user than
     * before) is an error, exit 2: never taken for another job running, which would leave
     * every message unsettled in silence. Returns the exit code.
     *
     * @param list<string> $argv
     */
    public function runAsJob(array $argv, string $lockFile): int
    {
        $watch = in_array('--watch', array_slice($argv, 1), true);
        $lock = @fopen($lockFile, 'c');
        if ($lock === false) {
            $why = error_get_last()['message'] ?? 'unknown error';
            fwrite(STDERR, "settle: cannot open the lock file $lockFile: $why\n");
            return 2;
        }
        if (!flock($lock, LOCK_EX | LOCK_NB, $held)) {
            if ($held === 1) {
                fwrite(STDERR, "another settle job is running\n");
                return $watch ? 1 : 0;
            }
            fwrite(STDERR, "settle: cannot lock $lockFile\n");
            return 2;
        }
        $stop = false;
        pcntl_async_signals(true);
        foreach ([SIGTERM, SIGINT] as $signal) {
            pcntl_signal($signal, function () use (&$stop): void {
                $stop = true;
            });
        }
        // A function, not fn (): an arrow function captures $stop's value once, never the signal.
        $this->run(function () use (&$stop): bool {
            return !$stop;
        }, untilIdle: !$watch);
        flock($lock, LOCK_UN);
        echo $this->summary(), "\n";
        return 0;
    }

    /**
     * What this settler did so far, in one line: `settle: 12 settled (10 accepted, 1 refused,
     * 1 duplicate), 2 retried later` (`settle: nothing due` when it did nothing).
     */
    public function summary(): string
    {
        $retried = $this->done['retried'] ?? 0;
        $settled = array_diff_key($this->done, ['retried' => true]);
        ksort($settled);
        $parts = [];
        if ($settled !== []) {
            $each = implode(', ', array_map(fn (string $k, int $n): string => "$n $k", array_keys($settled), $settled));
            $parts[] = array_sum($settled) . " settled ($each)";
        }
        if ($retried > 0) {
            $parts[] = "$retried retried later";
        }
        return 'settle: ' . ($parts === [] ? 'nothing due' : implode(', ', $parts));
    }

    private function count(string $outcome): void
    {
        $this->done[$outcome] = ($this->done[$outcome] ?? 0) + 1;
    }

    /** The delay before retry number $attempts (from 1): 0.2 s doubling, at most 5 minutes. */
    public static function backoff(int $attempts): float
    {
        return min(0.2 * 2 ** min($attempts - 1, 20), 300.0);
    }

    /**
     * Works until $keepGoing() is false and nothing is in flight; with $untilIdle, also stops once
     * nothing is due and nothing is in flight (the cron run).
     *
     * @param callable(): bool $keepGoing
     */
    public function run(callable $keepGoing, bool $untilIdle): void
    {
        $multi = curl_multi_init();
        try {
            $lastScan = 0.0;
            while (true) {
                $going = $keepGoing();
                $now = microtime(true);
                if ($going && count($this->inFlight) < $this->concurrency && $now - $lastScan >= 0.1) {
                    $lastScan = $now;
                    $busy = array_values(array_map(fn (array $f): int => $f['id'], $this->inFlight));
                    $due = $this->inbox->due($now, $this->concurrency - count($this->inFlight), $busy);
                    foreach ($due as $message) {
                        $this->start($multi, $message);
                    }
                    if ($due === [] && $this->inFlight === [] && $untilIdle) {
                        return;
                    }
                }
                if ($this->inFlight === []) {
                    if (!$going) {
                        return;
                    }
                    usleep(100_000);
                    continue;
                }
                curl_multi_exec($multi, $running);
                if (curl_multi_select($multi, 0.1) === -1) {
                    usleep(1_000); // nothing to wait on yet (a connection being set up)
                }
                while (($info = curl_multi_info_read($multi)) !== false) {
                    $this->finish($multi, $info['handle'], $info['result']);
                    $lastScan = 0.0; // room for another: look now
                }
            }
        } finally {
            foreach ($this->inFlight as $flight) {
                curl_multi_remove_handle($multi, $flight['handle']);
            }
            $this->inFlight = [];
            curl_multi_close($multi);
        }
    }

    /** @param array{id: int, body: string, attempts: int} $message */
    private function start(CurlMultiHandle $multi, array $message): void
    {
        try {
            $request = Ipn::verificationRequest($message['body'], $this->config);
        } catch (IpnException $e) {
            // Not a body ipnkit can post back (over a limit, not a form): kept, never posted.
            $this->inbox->settle($message['id'], 'unreadable', $e->getErrorCode(), $message['attempts']);
            $this->count('unreadable');
            return;
        }
        $handle = curl_init($request->url());
        $key = spl_object_id($handle);
        $this->inFlight[$key] = $message + ['handle' => $handle, 'answer' => ''];
        curl_setopt_array($handle, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $request->body(), // byte for byte: a string, never an array
            CURLOPT_HTTPHEADER => $request->curlHeaders(),
            CURLOPT_FOLLOWLOCATION => false, // a redirect is not PayPal's answer
            CURLOPT_PROTOCOLS => CURLPROTO_HTTPS | CURLPROTO_HTTP, // http: the local stand-in only
            CURLOPT_CONNECTTIMEOUT_MS => (int) min($this->timeout * 1000, 10_000),
            CURLOPT_TIMEOUT_MS => (int) ($this->timeout * 1000),
            CURLOPT_NOSIGNAL => true,
            CURLOPT_WRITEFUNCTION => function (CurlHandle $h, string $data) use ($key): int {
                $this->inFlight[$key]['answer'] .= $data;
                // Enough to tell it is not a verdict: stop reading (the transfer ends in error).
                return strlen($this->inFlight[$key]['answer']) > self::MAX_ANSWER_BYTES ? 0 : strlen($data);
            },
        ]);
        curl_multi_add_handle($multi, $handle);
    }

    private function finish(CurlMultiHandle $multi, CurlHandle $handle, int $result): void
    {
        $key = spl_object_id($handle);
        $flight = $this->inFlight[$key] ?? throw new \LogicException('a transfer this job did not start');
        unset($this->inFlight[$key]);
        curl_multi_remove_handle($multi, $handle);
        // No complete answer (refused, reset, timed out, too long): not PayPal's verdict.
        $verdict = $result === CURLE_OK
            ? Ipn::verdict(curl_getinfo($handle, CURLINFO_RESPONSE_CODE), $flight['answer'])
            : Verdict::noAnswer();
        curl_close($handle);
        try {
            $this->settleOne($flight['id'], $flight['body'], $flight['attempts'], $verdict);
        } catch (\Throwable $e) {
            // The database, or the shop's action, failed: the message stays in the inbox and is
            // tried again later; the job goes on with the others.
            self::log(['problem' => 'settle_failed', 'id' => $flight['id'], 'error' => $e::class . ': ' . $e->getMessage()]);
            try {
                $this->postpone($flight['id'], $flight['attempts'], 'settle_failed');
            } catch (\Throwable $again) {
                self::log(['problem' => 'postpone_failed', 'id' => $flight['id'], 'error' => $again::class . ': ' . $again->getMessage()]);
            }
        }
    }

    /** @param array<string, mixed> $line */
    private static function log(array $line): void
    {
        error_log(json_encode($line, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE));
    }

    private function settleOne(int $id, string $body, int $attempts, Verdict $verdict): void
    {
        if ($verdict->isUnexpected()) {
            $this->postpone($id, $attempts, $verdict->reason());
            return;
        }
        if (!$verdict->isVerified()) {
            $this->inbox->settle($id, 'invalid', null, $attempts);
            $this->count('invalid');
            return;
        }
        try {
            $message = Ipn::parse($body, $this->config);
        } catch (IpnException $e) {
            // Verified by PayPal, but not readable by ipnkit: kept for a person to look at.
            $this->inbox->settle($id, 'unreadable', $e->getErrorCode() . ':' . ($e->getField() ?? ''), $attempts);
            $this->count('unreadable');
            return;
        }
        $expected = ($this->expected)($message, $this->inbox->db);
        if ($expected === null) {
            $this->inbox->settle($id, 'unmatched', $message->event(), $attempts, $message);
            $this->count('unmatched');
            return;
        }
        $state = $this->inbox->decide($id, $attempts, $message, $verdict, $this->config, $expected, $this->act);
        if ($state === 'retry') {
            $this->postpone($id, $attempts, $verdict->reason());
            return;
        }
        $this->count($state);
    }

    private function postpone(int $id, int $attempts, ?string $reason): void
    {
        $this->inbox->postpone($id, $attempts + 1, microtime(true) + self::backoff($attempts + 1), $reason);
        $this->count('retried');
    }
}
