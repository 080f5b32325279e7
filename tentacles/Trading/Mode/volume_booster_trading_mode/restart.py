"""Resuming a run: the state file is read through `recovery` (pure) against the exchange's record, then the
orders of before the restart are settled: adopted while open, accounted when they closed while the mode was
down (filled, or vanished without a trade), cancelled when the mode does not trade.
"""
import typing

from . import books as vb_books
from . import gateway as vb_gateway
from . import journal as vb_journal
from . import recovery as vb_recovery


def exchange_record(gateway: vb_gateway.Gateway) -> vb_recovery.ExchangeRecord:
    """The exchange's record of trades as recovery judges journalled fills with it."""
    trades = gateway.recorded_trades()
    times = [trade.executed_time for trade in trades if trade.executed_time]
    fills = {}
    for trade in trades:
        if trade.symbol == gateway.symbol and trade.executed_quantity > 0:
            fill = gateway.fill(trade)
            fills[fill.trade_id] = fill
    return vb_recovery.ExchangeRecord(fills=fills, oldest=min(times, default=None), newest=max(times, default=None))


def open_state_file(path: str, books: vb_books.Books, gateway: vb_gateway.Gateway, target,
                    logger) -> typing.Optional[vb_recovery.Restored]:
    """Open the state file into `books.journal`; the restored progress when it belongs to an earlier run (it
    exists, even when nothing in it can be read), else None."""
    journal = vb_journal.Journal(path)
    existed = journal.path.exists()
    try:
        contents = journal.read()
    except OSError as err:
        logger.error(f"State file {path} can't be read ({err}): the mode runs without one, its progress is not "
                     f"restored and not kept")
        return None
    books.journal = journal
    if not existed:
        return None
    try:
        restored = vb_recovery.restore(contents, str(path), target, exchange_record(gateway))
    except Exception as err:  # whatever the file holds, the mode starts
        logger.exception(err, True, f"State file {path} could not be restored ({err!r})")
        restored = vb_recovery.restore(vb_journal.Contents([], [(0, f"not restorable ({err!r})")]), str(path),
                                       target)
    for warning in restored.warnings:
        logger.warning(warning)
    books.restoration = restored
    books.ledger = restored.ledger
    books.placed_volume = restored.placed_volume
    for order_id in restored.own_order_ids:
        books.orders.add(order_id)
    if restored.started_at is None:
        logger.warning(f"State file {path} has no valid snapshot: counters from before it are lost; the exchange's "
                       f"trades of orders tagged {vb_gateway.ORDER_TAG!r} are adopted")
    if restored.warnings:
        copy = journal.keep_copy()
        logger.warning(f"{len(restored.warnings)} damaged line(s) skipped in {path}; the file as it was is kept in "
                       f"{copy}")
    return restored


def resume(path: typing.Optional[str], books: vb_books.Books, gateway: vb_gateway.Gateway, target, started_at: float,
           allocation: dict, wording, logger) -> typing.Optional[tuple]:
    """Open the pair's state file (none in a backtest) into `books`, then write it back as one clean snapshot (a
    damaged line never stays). Returns (started_at, allocation) of the earlier run it resumes, else None."""
    if path is None:
        return None
    restored = open_state_file(path, books, gateway, target, logger)
    if books.journal is None:
        return None
    open_at_stop = ()
    if restored is not None:
        if restored.started_at is not None:
            started_at, allocation = restored.started_at, restored.allocation
        open_at_stop = restored.open_at_stop
    books.journal.compact(books.snapshot(gateway.symbol, started_at, allocation, open_at_stop))
    if restored is None:
        return None
    logger.info(wording.restored(path, books.ledger))
    return started_at, allocation


async def settle_previous_orders(books: vb_books.Books, executor, trading: bool, logger) -> None:
    """Open orders of this mode from before a restart are adopted (or cancelled when not trading), those that
    closed while it was down are accounted, and open orders carrying its tag that the state file misses are
    its own."""
    restoration = books.restoration
    if restoration is None:
        return
    for order in books.gateway.open_orders():
        if not books.orders.is_own(order.order_id) and order.tag == vb_gateway.ORDER_TAG \
                and restoration.adopts(order.creation_time):
            books.adopt_tagged(order.order_id, vb_gateway.side_of(order), order.origin_quantity, order.origin_price,
                               order.creation_time)
    still_open = {order.order_id for order in books.own_open_orders_on_exchange()}
    for order_id in sorted(restoration.open_at_stop - still_open):
        # closed while the mode was down: filled when its trades are known
        if order_id in restoration.filled_order_ids or books.gateway.has_trades(order_id):
            how = "filled"
        else:
            how = "vanished"
            logger.warning(f"Order {order_id} was open when the mode stopped and is no longer on the exchange, "
                           f"without a trade: it vanished while the mode was down (a paper-trading simulator loses "
                           f"its open orders when the bot process stops)")
        books.record_closed(order_id, how)
    books.restoration = None
    for order in books.own_open_orders_on_exchange():
        if trading:
            books.orders.add(order.order_id, order)
            logger.info(f"Adopted open {vb_gateway.side_of(order)} order {order.order_id} from before the restart")
        else:
            await executor.cancel(order, "not trading after restart")
