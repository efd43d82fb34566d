<?php
// An Express Checkout shop that authorizes at checkout and captures at once, on PayPal's NVP API.
// Its orders live in the same SQLite database as the IPN inbox, so that a notification's effect
// on an order commits with the record that it was acted on.
//
// The point of the example: DoCapture's answer can be lost (the buyer closes the tab, PHP's
// request is cut, the network drops) after PayPal has captured. The shop stores the authorization
// id before it calls DoCapture; the capture's notification (payment_status=Completed with that
// auth_id) is then what confirms the order, verified by PayPal and checked against the order's
// amount and currency by ipnkit.
//
// Settings, beside those of ../lib/Settings.php:
//   SHOP_URL                 this shop's base URL, as PayPal's checkout and notifications reach it
//   PAYPAL_API_USER, PAYPAL_API_PASSWORD, PAYPAL_API_SIGNATURE   the NVP API credentials
//   PAYPAL_NVP_URL, PAYPAL_CHECKOUT_URL   PayPal's, by IPNKIT_ENV, unless set (tests: `ipnkit sandbox`)
//   PAYPAL_API_TIMEOUT       seconds an API call may take (default 30); past it the answer is lost
declare(strict_types=1);

namespace IpnkitExample;

use Ipnkit\{Decision, Expected, Message};
use PDO;

/** A client of PayPal's NVP API. */
final class PayPalApi
{
    public function __construct(
        private readonly string $url,
        private readonly string $user,
        private readonly string $password,
        private readonly string $signature,
        private readonly float $timeout = 30.0,
    ) {
    }

    /**
     * Calls $method; returns PayPal's answer (`ACK` says how it went), or null when none arrived
     * — in which case PayPal may well have done it.
     *
     * @param array<string, string> $params
     * @return array<string, string>|null
     */
    public function call(string $method, array $params): ?array
    {
        $request = ['METHOD' => $method, 'VERSION' => '204.0', 'USER' => $this->user, 'PWD' => $this->password,
            'SIGNATURE' => $this->signature] + $params;
        $curl = curl_init($this->url);
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => http_build_query($request, '', '&', PHP_QUERY_RFC1738),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTPS | CURLPROTO_HTTP,
            CURLOPT_TIMEOUT_MS => (int) ($this->timeout * 1000),
        ]);
        $answer = curl_exec($curl);
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        if (!is_string($answer) || $status !== 200) {
            return null;
        }
        $fields = [];
        foreach (explode('&', $answer) as $pair) {
            [$name, $value] = explode('=', $pair, 2) + [1 => ''];
            $fields[urldecode($name)] = urldecode($value);
        }
        return isset($fields['ACK']) ? $fields : null;
    }
}

final class Shop
{
    /** What the shop sells: product => [price, currency]. Prices come from here, never the browser. */
    public const CATALOGUE = ['mug' => ['12.50', 'EUR'], 'shirt' => ['24.90', 'EUR'], 'poster' => ['9.00', 'EUR']];

    public function __construct(
        public readonly PDO $db,
        private readonly PayPalApi $paypal,
        private readonly string $checkoutUrl,
        private readonly string $shopUrl,
    ) {
        $db->exec(<<<'SQL'
            CREATE TABLE IF NOT EXISTS shop_order (
                id           INTEGER PRIMARY KEY AUTOINCREMENT,
                product      TEXT NOT NULL,
                amount       TEXT NOT NULL,              -- exact decimal, as PayPal writes it
                currency     TEXT NOT NULL,
                state        TEXT NOT NULL DEFAULT 'new', -- new, authorizing, capturing, paid, failed
                token        TEXT UNIQUE,                -- the Express Checkout token
                auth_id      TEXT UNIQUE,                -- stored before DoCapture is called
                capture_id   TEXT UNIQUE,
                confirmed_by TEXT,                       -- api (DoCapture's answer) or ipn
                detail       TEXT,
                created_at   REAL NOT NULL
            );
            CREATE TABLE IF NOT EXISTS shop_event (
                delivery_key TEXT PRIMARY KEY,
                event        TEXT NOT NULL,
                order_id     INTEGER REFERENCES shop_order (id),
                txn_id       TEXT,
                acted_at     REAL NOT NULL
            );
            SQL);
    }

    /** The shop from the environment (see the top of this file). */
    public static function fromEnvironment(PDO $db, string $environment): self
    {
        $live = $environment === 'live';
        $need = fn (string $name): string => Settings::get($name) ?? throw new \RuntimeException("$name is not set");
        return new self(
            $db,
            new PayPalApi(
                Settings::get('PAYPAL_NVP_URL') ?? ($live ? 'https://api-3t.paypal.com/nvp' : 'https://api-3t.sandbox.paypal.com/nvp'),
                $need('PAYPAL_API_USER'),
                $need('PAYPAL_API_PASSWORD'),
                $need('PAYPAL_API_SIGNATURE'),
                self::seconds(Settings::get('PAYPAL_API_TIMEOUT') ?? '30'),
            ),
            Settings::get('PAYPAL_CHECKOUT_URL') ?? ($live ? 'https://www.paypal.com/cgi-bin/webscr' : 'https://www.sandbox.paypal.com/cgi-bin/webscr'),
            rtrim($need('SHOP_URL'), '/'),
        );
    }

    private static function seconds(string $text): float
    {
        return is_numeric($text) && (float) $text > 0 ? (float) $text : throw new \RuntimeException('PAYPAL_API_TIMEOUT is not a number of seconds');
    }

    /** @return array<string, mixed>|null */
    public function order(string $column, string|int $value): ?array
    {
        if (!in_array($column, ['id', 'token', 'auth_id'], true)) {
            throw new \InvalidArgumentException("orders are not looked up by $column");
        }
        $select = $this->db->prepare("SELECT * FROM shop_order WHERE $column = ?");
        $select->execute([$value]);
        $order = $select->fetch(PDO::FETCH_ASSOC);
        return $order === false ? null : $order;
    }

    /** The order a notification's invoice names (`order-42`), if any. @return array<string, mixed>|null */
    public function orderOfInvoice(?string $invoice): ?array
    {
        return $invoice !== null && preg_match('/^order-(\d{1,18})$/', $invoice, $m) ? $this->order('id', (int) $m[1]) : null;
    }

    /** POST /checkout: creates the order, opens an Express Checkout; where to send the buyer. */
    public function checkout(string $product): string
    {
        [$amount, $currency] = self::CATALOGUE[$product] ?? throw new \DomainException('no such product');
        $this->db->prepare('INSERT INTO shop_order (product, amount, currency, created_at) VALUES (?, ?, ?, ?)')
            ->execute([$product, $amount, $currency, microtime(true)]);
        $id = (int) $this->db->lastInsertId();
        $answer = $this->paypal->call('SetExpressCheckout', [
            'PAYMENTREQUEST_0_AMT' => $amount,
            'PAYMENTREQUEST_0_CURRENCYCODE' => $currency,
            'PAYMENTREQUEST_0_PAYMENTACTION' => 'Authorization',
            'PAYMENTREQUEST_0_INVNUM' => "order-$id",
            'PAYMENTREQUEST_0_NOTIFYURL' => "{$this->shopUrl}/ipn",
            'RETURNURL' => "{$this->shopUrl}/return",
            'CANCELURL' => "{$this->shopUrl}/cancel",
        ]);
        if (($answer['ACK'] ?? null) !== 'Success' || !isset($answer['TOKEN'])) {
            $this->fail($id, 'SetExpressCheckout:' . ($answer['L_ERRORCODE0'] ?? 'no answer'));
            throw new \RuntimeException('PayPal did not open the checkout');
        }
        $this->db->prepare('UPDATE shop_order SET token = ? WHERE id = ?')->execute([$answer['TOKEN'], $id]);
        return $this->checkoutUrl . '?' . http_build_query(['cmd' => '_express-checkout', 'token' => $answer['TOKEN']]);
    }

    /**
     * GET /return: the buyer approved; authorize, store the authorization id, capture. Returns
     * the order's state afterwards: `paid`, or `capturing` when DoCapture's answer was lost (the
     * capture's notification will confirm it), or `failed`.
     */
    public function complete(string $token, string $payerId): string
    {
        $order = $this->order('token', $token) ?? throw new \DomainException('no such checkout');
        $claim = $this->db->prepare("UPDATE shop_order SET state = 'authorizing' WHERE id = ? AND state = 'new'");
        $claim->execute([$order['id']]);
        if ($claim->rowCount() === 0) {
            return $order['state']; // a reload, or a second tab: done once already
        }
        $authorized = $this->paypal->call('DoExpressCheckoutPayment', [
            'TOKEN' => $token,
            'PAYERID' => $payerId,
            'PAYMENTREQUEST_0_AMT' => $order['amount'],
            'PAYMENTREQUEST_0_CURRENCYCODE' => $order['currency'],
            'PAYMENTREQUEST_0_PAYMENTACTION' => 'Authorization',
            'PAYMENTREQUEST_0_INVNUM' => "order-{$order['id']}",
            'PAYMENTREQUEST_0_NOTIFYURL' => "{$this->shopUrl}/ipn",
        ]);
        if ($authorized === null) {
            // PayPal may have authorized: a person looks (the authorization's notification, kept
            // in the inbox, carries its id). Nothing is captured on a guess.
            return 'authorizing';
        }
        $authId = $authorized['PAYMENTINFO_0_TRANSACTIONID'] ?? null;
        if ($authorized['ACK'] !== 'Success' || $authId === null) {
            $this->fail((int) $order['id'], 'DoExpressCheckoutPayment:' . ($authorized['L_ERRORCODE0'] ?? 'no id'));
            return 'failed';
        }
        // Stored before DoCapture: whatever happens to its answer, the capture's notification
        // finds this order by its auth_id.
        $this->db->prepare("UPDATE shop_order SET auth_id = ?, state = 'capturing' WHERE id = ? AND (auth_id IS NULL OR auth_id = ?)")
            ->execute([$authId, $order['id'], $authId]);
        $captured = $this->paypal->call('DoCapture', [
            'AUTHORIZATIONID' => $authId,
            'AMT' => $order['amount'],
            'CURRENCYCODE' => $order['currency'],
            'COMPLETETYPE' => 'Complete',
            'INVNUM' => "order-{$order['id']}",
        ]);
        if ($captured === null) {
            // Captured or not, only PayPal knows: never capture again on a guess. The capture's
            // notification settles it.
            return 'capturing';
        }
        if ($captured['ACK'] !== 'Success' || !isset($captured['TRANSACTIONID'])) {
            $this->fail((int) $order['id'], 'DoCapture:' . ($captured['L_ERRORCODE0'] ?? 'no id'));
            return 'failed';
        }
        $this->paid($authId, $captured['TRANSACTIONID'], 'api');
        return 'paid';
    }

    /** Marks the order of authorization $authId paid by capture $captureId, once. */
    private function paid(string $authId, string $captureId, string $by): void
    {
        $this->db->prepare("UPDATE shop_order SET state = 'paid', capture_id = ?, confirmed_by = ? WHERE auth_id = ? AND state <> 'paid'")
            ->execute([$captureId, $by, $authId]);
    }

    private function fail(int $id, string $detail): void
    {
        $this->db->prepare("UPDATE shop_order SET state = 'failed', detail = ? WHERE id = ?")->execute([$detail, $id]);
    }

    /**
     * The settle job's question: what a notification should pay. A capture is matched by its
     * auth_id, an authorization by its invoice; null when it names no order of this shop (kept as
     * `unmatched` for a person). Refunds, disputes and the rest pay no order here.
     */
    public function expected(Message $message): ?Expected
    {
        $order = match ($message->event()) {
            'capture_completed' => $message->auth_id === null ? null : $this->order('auth_id', $message->auth_id),
            'authorization_created' => $this->orderOfInvoice($message->invoice),
            default => false,
        };
        return match (true) {
            $order === false => Expected::anyAmount(),
            $order === null => null,
            default => new Expected(['amount' => $order['amount'], 'currency' => $order['currency']]),
        };
    }

    /**
     * The settle job's action on an accepted notification, in the transaction that records it.
     * An authorization's notification (Pending) never gets here: it is not a final status, so
     * ipnkit refuses to act on it (`status_not_final`) and it is kept; the capture's is final.
     */
    public function act(Message $message, Decision $decision): void
    {
        $order = null;
        if ($decision->event() === 'capture_completed' && $message->auth_id !== null && $message->txn_id !== null) {
            $order = $this->order('auth_id', $message->auth_id);
            $this->paid($message->auth_id, $message->txn_id, 'ipn');
        }
        $this->db->prepare('INSERT INTO shop_event (delivery_key, event, order_id, txn_id, acted_at) VALUES (?, ?, ?, ?, ?)')
            ->execute([$decision->deliveryKey(), $decision->event(), $order['id'] ?? null, $message->txn_id, microtime(true)]);
    }
}
