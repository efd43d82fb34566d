<?php
// The IPN inbox, on SQLite through PDO: every raw body PayPal delivers is stored (committed,
// synced) before the listener answers 200; a settle job works through it afterwards. A delivery
// key is acted on once: its row in ipn_delivery (PRIMARY KEY) is inserted in the same
// transaction as the action, so a crash between the two acts on nothing twice and loses nothing.
//
// One file for the examples; in a shop, these are two tables of its own database, and `act`
// updates its orders in the same transaction.
declare(strict_types=1);

namespace IpnkitExample;

use Ipnkit\{Config, Decision, Expected, Ipn, Message, Verdict};
use PDO;
use PDOException;

final class Inbox
{
    /** How a message can end. */
    public const SETTLED = ['accepted', 'duplicate', 'stale', 'refused', 'invalid', 'unreadable', 'unmatched'];

    /** The schema's version (PRAGMA user_version); a newer file is refused, an older migrated. */
    private const VERSION = 1;

    /** Seconds to wait while another process holds the file. */
    private const BUSY_SECONDS = 10;

    private function __construct(public readonly PDO $db)
    {
    }

    /** Opens (and creates) the inbox in the SQLite file $path. */
    public static function open(string $path): self
    {
        $db = new PDO('sqlite:' . $path, null, null, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_TIMEOUT => self::BUSY_SECONDS,
        ]);
        self::useWal($db);
        $db->exec('PRAGMA synchronous = FULL'); // committed means on disk, before the 200
        $inbox = new self($db);
        $inbox->migrate();
        return $inbox;
    }

    /**
     * Puts the file in WAL mode (readers never wait for the writer). The switch needs the file
     * to itself, and SQLite refuses it at once with SQLITE_BUSY, without waiting out the
     * timeout, when waiting could deadlock: the web server's workers and the settle job,
     * started together on a new file, can meet there (seen once in CI). So it tries again, for
     * as long as the timeout.
     */
    private static function useWal(PDO $db): void
    {
        $deadline = microtime(true) + self::BUSY_SECONDS;
        for (;;) {
            try {
                $mode = $db->query('PRAGMA journal_mode = WAL')->fetchColumn();
                break;
            } catch (PDOException $e) {
                $busy = ($e->errorInfo[1] ?? null) === 5; // SQLITE_BUSY
                if (!$busy || microtime(true) > $deadline) {
                    throw $e;
                }
                usleep(20_000);
            }
        }
        if ($mode !== 'wal') {
            throw new \RuntimeException("the inbox cannot use WAL (its journal mode stays $mode)");
        }
    }

    private function migrate(): void
    {
        $version = (int) $this->db->query('PRAGMA user_version')->fetchColumn();
        if ($version === self::VERSION) {
            return;
        }
        if ($version > self::VERSION) {
            throw new \RuntimeException("the inbox's schema is version $version, newer than this code's " . self::VERSION);
        }
        $this->transaction(function (PDO $db): void {
            if ((int) $db->query('PRAGMA user_version')->fetchColumn() >= self::VERSION) {
                return; // another process migrated it first
            }
            $db->exec(<<<'SQL'
                CREATE TABLE ipn_message (
                    id              INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at     REAL NOT NULL,
                    body            BLOB NOT NULL,           -- the raw body, byte for byte
                    state           TEXT NOT NULL DEFAULT 'received',
                    detail          TEXT,                    -- error or violation codes, never values
                    attempts        INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL DEFAULT 0,
                    delivery_key    TEXT,
                    lookup_id       TEXT,
                    settled_at      REAL,
                    settle_order    INTEGER UNIQUE
                );
                CREATE INDEX ipn_message_due ON ipn_message (state, next_attempt_at);
                CREATE TABLE ipn_delivery (
                    delivery_key TEXT PRIMARY KEY,           -- at most 206 ASCII bytes
                    lookup_id    TEXT NOT NULL,
                    message_id   INTEGER NOT NULL REFERENCES ipn_message (id),
                    acted_at     REAL NOT NULL
                );
                CREATE INDEX ipn_delivery_lookup ON ipn_delivery (lookup_id);
                SQL);
            $db->exec('PRAGMA user_version = ' . self::VERSION);
        });
    }

    /**
     * Runs $work in one write transaction (BEGIN IMMEDIATE: the write lock is taken first, so
     * what $work reads is still true when it writes).
     *
     * @template T
     * @param callable(PDO): T $work
     * @return T
     */
    public function transaction(callable $work): mixed
    {
        $this->db->exec('BEGIN IMMEDIATE');
        try {
            $result = $work($this->db);
            $this->db->exec('COMMIT');
            return $result;
        } catch (\Throwable $e) {
            $this->db->exec('ROLLBACK');
            throw $e;
        }
    }

    /** Stores a delivered body; returns its id once it is committed. */
    public function receive(string $raw): int
    {
        $insert = $this->db->prepare('INSERT INTO ipn_message (received_at, body) VALUES (?, ?)');
        $insert->bindValue(1, microtime(true));
        $insert->bindValue(2, $raw, PDO::PARAM_LOB);
        $insert->execute();
        return (int) $this->db->lastInsertId();
    }

    /**
     * Up to $limit messages due for a postback at $now, oldest first, leaving out $busy ids.
     *
     * @param list<int> $busy
     * @return list<array{id: int, body: string, attempts: int}>
     */
    public function due(float $now, int $limit, array $busy = []): array
    {
        $skip = $busy === [] ? '' : ' AND id NOT IN (' . implode(',', array_map('intval', $busy)) . ')';
        $select = $this->db->prepare(
            "SELECT id, body, attempts FROM ipn_message WHERE state = 'received' AND next_attempt_at <= ?$skip ORDER BY id LIMIT ?",
        );
        $select->execute([$now, $limit]);
        return array_map(
            fn (array $row): array => ['id' => (int) $row['id'], 'body' => (string) $row['body'], 'attempts' => (int) $row['attempts']],
            $select->fetchAll(),
        );
    }

    /** How many messages are not settled yet. */
    public function waiting(): int
    {
        return (int) $this->db->query("SELECT count(*) FROM ipn_message WHERE state = 'received'")->fetchColumn();
    }

    /** Keeps message $id for another postback at $next (PayPal's answer was not an answer). */
    public function postpone(int $id, int $attempts, float $next, ?string $reason): void
    {
        $this->db->prepare("UPDATE ipn_message SET attempts = ?, next_attempt_at = ?, detail = ? WHERE id = ? AND state = 'received'")
            ->execute([$attempts, $next, $reason, $id]);
    }

    /** Records how message $id ended; its body stays. */
    public function settle(int $id, string $state, ?string $detail, int $attempts, ?Message $message = null): void
    {
        if (!in_array($state, self::SETTLED, true)) {
            throw new \InvalidArgumentException("not a settled state: $state");
        }
        $this->db->prepare(<<<'SQL'
            UPDATE ipn_message
               SET state = ?, detail = ?, attempts = ?, delivery_key = ?, lookup_id = ?, settled_at = ?,
                   settle_order = (SELECT coalesce(max(settle_order), 0) + 1 FROM ipn_message)
             WHERE id = ? AND state = 'received'
            SQL)->execute([$state, $detail, $attempts, $message?->deliveryKey(), $message?->lookupId(), microtime(true), $id]);
    }

    /**
     * Decides what verified message $id is, and acts on it at most once: reads the keys acted on
     * under its lookup id, asks ipnkit, and — for `act` — claims the key, calls $act and settles,
     * all in one transaction. Returns the state it settled in, or `retry`.
     *
     * @param callable(Message, Decision, PDO): void $act
     */
    public function decide(int $id, int $attempts, Message $message, Verdict $verdict, Config $config, Expected $expected, callable $act): string
    {
        return $this->transaction(function (PDO $db) use ($id, $attempts, $message, $verdict, $config, $expected, $act): string {
            $select = $db->prepare('SELECT delivery_key FROM ipn_delivery WHERE lookup_id = ? ORDER BY acted_at, rowid');
            $select->execute([$message->lookupId()]);
            $stored = $select->fetchAll(PDO::FETCH_COLUMN);
            $decision = Ipn::decide($message, $verdict, $config, $expected, $stored);
            switch ($decision->action()) {
                case 'act':
                    try {
                        $db->prepare('INSERT INTO ipn_delivery (delivery_key, lookup_id, message_id, acted_at) VALUES (?, ?, ?, ?)')
                            ->execute([$message->deliveryKey(), $message->lookupId(), $id, microtime(true)]);
                    } catch (PDOException $e) {
                        if ($e->getCode() !== '23000') { // not the key's UNIQUE constraint
                            throw $e;
                        }
                        $this->settle($id, 'duplicate', null, $attempts, $message);
                        return 'duplicate';
                    }
                    $act($message, $decision, $db);
                    $this->settle($id, 'accepted', null, $attempts, $message);
                    return 'accepted';
                case 'skip': // a duplicate, or a state older than one acted on
                    $kind = $decision->delivery()['kind'] ?? throw new \LogicException('ipnkit answered skip without a delivery');
                    $this->settle($id, $kind, null, $attempts, $message);
                    return $kind;
                case 'refuse':
                    $codes = $decision->why() === 'rules'
                        ? implode(',', array_map(fn (array $v): string => $v['code'], $decision->violations()))
                        : $decision->why();
                    $this->settle($id, 'refused', $codes, $attempts, $message);
                    return 'refused';
                case 'retry':
                    return 'retry';
                default:
                    throw new \LogicException('an action this code does not know: ' . $decision->action());
            }
        });
    }
}
