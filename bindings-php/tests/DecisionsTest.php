<?php
declare(strict_types=1);

use Ipnkit\Config;
use Ipnkit\Expected;
use Ipnkit\Ipn;
use Ipnkit\IpnException;
use Ipnkit\Verdict;
use PHPUnit\Framework\TestCase;

/**
 * The shared decision cases (tests/decisions/cases.json): the extension decides each as the
 * core's golden file says (tests/decisions/decisions.json): `toArray()` is the core's JSON, and
 * each accessor says the same.
 */
final class DecisionsTest extends TestCase
{
    public function testEveryCaseDecidesAsTheCoreDoes(): void
    {
        $dir = dirname(__DIR__, 2) . '/tests/decisions';
        $cases = json_decode((string) file_get_contents("$dir/cases.json"), true, 512, JSON_THROW_ON_ERROR)['cases'];
        $golden = json_decode((string) file_get_contents("$dir/decisions.json"), true, 512, JSON_THROW_ON_ERROR);
        $this->assertSame(array_column($cases, 'name'), array_column($golden, 'name'));
        $decided = 0;
        foreach ($cases as $i => $case) {
            $want = $golden[$i]['decision'];
            try {
                $message = Ipn::parse($case['body']);
            } catch (IpnException $e) {
                // A body that does not decode never becomes a Message, so Ipn::decide() cannot
                // take it: the core's refusal for it is `unreadable`, and parse throws that error.
                $this->assertSame(['unreadable', $want['error']['code']], [$want['why'], $e->getErrorCode()], $case['name']);
                continue;
            }
            $verdict = $case['status'] === null ? Verdict::noAnswer() : Ipn::verdict($case['status'], $case['answer']);
            $d = Ipn::decide($message, $verdict, new Config($case['config']), new Expected($case['expected']), $case['stored']);
            $this->assertEquals($want, $d->toArray(), $case['name']);
            $this->assertEquals($want, json_decode((string) json_encode($d), true), $case['name']);
            $this->assertEquals(
                [$want['action'], $want['why'] ?? null, $want['event'] ?? null, $want['delivery_key'] ?? null,
                 $want['amount'] ?? null, $want['reason'] ?? null, $want['ours'] ?? false, $want['violations'] ?? []],
                [$d->action(), $d->why(), $d->event(), $d->deliveryKey(), $d->amount(), $d->reason(), $d->ours(), $d->violations()],
                $case['name'],
            );
            $decided++;
        }
        $this->assertSame(count($cases) - 1, $decided, 'every case but the unreadable one went through decide');
    }
}
