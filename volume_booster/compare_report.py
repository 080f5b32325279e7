"""The compare command's report: one table of every style and data file, and the verdict lines that put auto
next to the cheaper of maker and market, and maker next to coin-flip, with the noise of the same-seed gap."""
import math
import pathlib
import statistics
import typing

from volume_booster import formatting


TABLE_HEADER = ("data", "fees m/t", "style", "reached", "volume", "to target", "fees paid", "net cost",
                "bps mean", "bps min", "bps max", "x floor", "fill ratio", "cancels/fill", "maker share", "drift pp",
                "abs drift pp", "peak abs drift pp")


def table_lines(rows: list) -> list:
    """Markdown table of the rows (one per data file x fee schedule x style)."""
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "|".join("---" for _ in TABLE_HEADER) + "|"]
    for row in rows:
        quote = row["symbol"].split("/")[1]
        decimals = row.get("quote_decimals", 2)
        cells = (
            f"{row['exchange']} {row['symbol']}",
            f"{formatting.percent(row['maker_fee'])}/{formatting.percent(row['taker_fee'])}",
            row["style"],
            f"{row['target_reached_runs']}/{len(row['runs'])}",
            f"{formatting.optional_amount(row['volume'], decimals)} {quote}",
            formatting.hours_or_minutes(row["time_to_target_seconds"]),
            formatting.optional_amount(row["fees"], decimals),
            formatting.optional_amount(row["net_cost"], decimals),
            formatting.optional(row["net_cost_bps"], "+.1f"),
            formatting.optional(row["net_cost_bps_min"], "+.1f"),
            formatting.optional(row["net_cost_bps_max"], "+.1f"),
            formatting.optional(row.get("cost_floor_ratio"), ".2f"),
            formatting.optional(row.get("fill_ratio"), ".0%"),
            formatting.optional(row.get("cancels_per_fill"), ".2f"),
            formatting.optional(row.get("maker_share"), ".0%"),
            formatting.optional(row["inventory_drift_pp"], "+.2f"),
            formatting.optional(row["inventory_drift_pp_abs"], ".2f"),
            formatting.optional(row.get("peak_inventory_drift_pp"), ".2f"),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _groups(rows: list) -> dict:
    groups = {}
    for row in rows:
        groups.setdefault((row["data"], row["maker_fee"], row["taker_fee"]), []).append(row)
    return groups


def verdict_lines(rows: list) -> list:
    """Per data file and fee schedule: the cheapest style on mean net_cost_bps, and maker against coin-flip."""
    lines = []
    maker_wins = maker_cells = 0
    for (data, maker_fee, taker_fee), group in _groups(rows).items():
        head = (f"{group[0]['exchange']} {group[0]['symbol']} ({pathlib.Path(data).name}), "
                f"fees {formatting.percent(maker_fee)}/{formatting.percent(taker_fee)}:")
        comparable = [row for row in group if row["target_reached"] and row["net_cost_bps"] is not None]
        short = [row["style"] for row in group if not row["target_reached"]]
        if comparable:
            cheapest = min(comparable, key=lambda row: row["net_cost_bps"])
            text = f"{head} cheapest on mean net cost: {cheapest['style']} ({cheapest['net_cost_bps']:+.1f} bps)"
        else:
            text = f"{head} no style reached the target in every run"
        if short:
            text += f"; not comparable (target missed in some run): {', '.join(short)}"
        lines.append(text)
        by_style = {row["style"]: row for row in group}
        lines.extend(_auto_lines(by_style))
        maker, coin = by_style.get("maker"), by_style.get("coin-flip")
        if maker and coin and maker["net_cost_bps"] is not None and coin["net_cost_bps"] is not None:
            maker_cells += 1
            diff = coin["net_cost_bps"] - maker["net_cost_bps"]
            # a gap under 0.05 bps keeps two decimals, so that "cheaper" never reads "by 0.0 bps"
            gap = f"{abs(diff):.2f}" if abs(diff) < 0.05 else f"{abs(diff):.1f}"
            if diff > 0:
                maker_wins += 1
                verdict = f"maker IS cheaper than coin-flip by {gap} bps on the mean"
            else:
                verdict = f"maker is NOT cheaper than coin-flip (coin-flip cheaper by {gap} bps on the mean)"
            same_seed = [(m["net_cost_bps"], c["net_cost_bps"]) for m, c in zip(maker["runs"], coin["runs"])
                         if "error" not in m and "error" not in c]
            coin_cheaper = sum(1 for m_bps, c_bps in same_seed if c_bps < m_bps)
            lines.append(
                f"    {verdict}; maker {maker['net_cost_bps_min']:+.1f}..{maker['net_cost_bps_max']:+.1f} bps, "
                f"coin-flip {coin['net_cost_bps_min']:+.1f}..{coin['net_cost_bps_max']:+.1f} bps over seeds; "
                f"coin-flip was cheaper in {coin_cheaper} of {len(same_seed)} same-seed runs"
                f"{_noise_text([c_bps - m_bps for m_bps, c_bps in same_seed])}{_band_text(maker)}"
            )
    if maker_cells:
        lines.append(f"maker cheaper than coin-flip on mean net cost in {maker_wins} of {maker_cells} "
                     f"data file x fee schedule cells")
    return lines


def _auto_lines(by_style: dict) -> list:
    """auto against the cheaper of maker and market (same seeds), and against the fee floor."""
    auto = by_style.get("auto")
    others = [by_style[name] for name in ("maker", "market") if name in by_style
              and by_style[name]["net_cost_bps"] is not None]
    if auto is None or auto["net_cost_bps"] is None or not others:
        return []
    best = min(others, key=lambda row: row["net_cost_bps"])
    reached = f"reached the target in {auto['target_reached_runs']} of {len(auto['runs'])} runs"
    paired = paired_difference([a["net_cost_bps"] - b["net_cost_bps"] for a, b in zip(auto["runs"], best["runs"])
                                if "error" not in a and "error" not in b])
    if paired is None:
        verdict = f"auto {auto['net_cost_bps']:+.1f} bps vs {best['style']} {best['net_cost_bps']:+.1f} bps"
    else:
        mean, error = paired
        within = "within" if abs(mean) <= error else "BELOW" if mean < 0 else "ABOVE"
        verdict = (f"auto {auto['net_cost_bps']:+.1f} bps vs the cheaper of maker and market, {best['style']}, "
                   f"{best['net_cost_bps']:+.1f} bps: same-seed gap {mean:+.2f} bps, standard error {error:.2f} bps, "
                   f"{within} one standard error" + (" (cheaper)" if within == "BELOW" else ""))
    text = f"    {verdict}; auto {reached}"
    if auto.get("cost_floor_ratio") is not None:
        text += f"; auto costs {auto['cost_floor_ratio']:.2f}x the lower fee"
    market = by_style.get("market")
    if market is not None and market["net_cost_bps"] is not None and auto["maker_fee"] < auto["taker_fee"]:
        half_gap_bps = (auto["taker_fee"] - auto["maker_fee"]) * 100 / 2
        saved = market["net_cost_bps"] - auto["net_cost_bps"]
        enough = "at least" if saved >= half_gap_bps else "LESS than"
        text += f"; {saved:.1f} bps below market, {enough} half the fee difference ({half_gap_bps:.1f} bps)"
    return [text]


def paired_difference(differences: list) -> typing.Optional[tuple]:
    """Mean and standard error of same-seed differences (None with fewer than two)."""
    if len(differences) < 2:
        return None
    return statistics.fmean(differences), statistics.stdev(differences) / math.sqrt(len(differences))


def _noise_text(differences: list) -> str:
    """How the mean gap compares with its noise: within two standard errors, the seeds cannot tell."""
    paired = paired_difference(differences)
    if paired is None:
        return ""
    mean, error = paired
    reading = "within the noise" if abs(mean) <= 2 * error else "beyond the noise"
    return f"; same-seed gap {mean:+.1f} bps, standard error {error:.1f} bps: {reading}"


def _band_text(row: dict) -> str:
    """The largest drift a configuration's runs reached, against its band."""
    peak = row.get("peak_inventory_drift_pp")
    bands = {run["effective_settings"].get("inventory_band_pp") for run in row["runs"]
             if "effective_settings" in run}
    if peak is None or len(bands) != 1:
        return ""
    band = bands.pop()
    where = "inside" if peak <= band else "OUTSIDE"
    return f"; maker's largest drift {peak:.2f} pp, {where} its {band:g} pp band"


def format_report(rows: list, plans: list, seeds: list) -> str:
    lines = [f"Execution styles compared: {len(seeds)} seed(s) per configuration ({_seed_text(seeds)}); "
             f"net cost = starting portfolio value minus final value, both at the last price; "
             f"bps of the volume traded"]
    for plan in plans:
        lines.append(f"  {plan.exchange} {plan.symbol} {plan.path.name}: "
                     f"{plan.candles} x {plan.finest_time_frame} candles, "
                     f"quote holding {formatting.optional_amount(plan.quote_holding, plan.quote_decimals)} {plan.quote}, "
                     f"target {formatting.optional_amount(plan.target, plan.quote_decimals)} {plan.quote}, orders "
                     f"{formatting.optional_amount(plan.min_amount, plan.quote_decimals)}-"
                     f"{formatting.optional_amount(plan.max_amount, plan.quote_decimals)} {plan.quote}")
    lines.append("")
    lines.extend(table_lines(rows))
    lines.append("")
    lines.extend(verdict_lines(rows))
    return "\n".join(lines)


def _seed_text(seeds) -> str:
    seeds = list(seeds)
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"seeds {seeds[0]}..{seeds[-1]}"
    return "seeds " + ", ".join(str(seed) for seed in seeds)
