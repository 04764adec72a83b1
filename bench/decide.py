"""How fast is a Pledge decision, next to pycasbin and cedarpy deciding the same rules?

    .venv/bin/python bench/decide.py          # full run, about a minute; writes docs/benchmarks.md
    .venv/bin/python bench/decide.py --quick  # smoke test, a few seconds; writes nothing
    .venv/bin/python bench/decide.py --quick --write

All three engines answer the same requests against the rules of
``examples/policies/zabbix.yaml``: which purposes a role or recipient acts for, which data
categories it may see (``user.contact`` covers ``user.contact.email``), and the data subject's
opt-out of marketing email. The peers' rules are generated from the Pledge policy model, and
the script stops if any engine disagrees with another on any request it times, so the
comparison is always between engines giving the same answers.

Timing: ``time.perf_counter_ns`` around batches of calls with the garbage collector off (as
``timeit`` does); each batch gives one per-call figure, and the median and p99 are taken over
the batches. Requests are built beforehand, in each engine's own request form.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import casbin
import cedarpy
from _report import ROOT, command_line, machine_summary, write_section

from pledge.policy import (
    Actor,
    Choices,
    CompiledPolicy,
    Request,
    compile_policy,
    decide,
    decide_many,
    load_policy,
    purpose_choice,
)
from pledge.policy.model import Basis, Policy
from pledge.policy.taxonomy import ancestors, covers

POLICY_FILE = "examples/policies/zabbix.yaml"
MARKETING = "marketing.communications.email"
SECTION = "decide"

GOAL_SINGLE_NS = 2_000
GOAL_VS_CASBIN = 20.0
GOAL_VS_CEDAR = 50.0
GOAL_BATCH_MS = 100.0
GOAL_BATCH_SUBJECTS = 100_000


@dataclass(frozen=True)
class Size:
    pledge_batches: int  # batches of the request mix, Pledge
    pledge_calls: int  # calls per batch, Pledge
    peer_batches: int
    peer_calls: int
    case_batches: int  # per-request figures: batches per request and engine
    case_calls: int
    cold_samples: int
    subjects: int  # the batch benchmark
    batch_repeats: int
    peer_batch_repeats: int


FULL = Size(1000, 1000, 200, 200, 100, 200, 300, 100_000, 20, 2)
QUICK = Size(20, 200, 5, 40, 5, 40, 20, 10_000, 3, 1)


@dataclass(frozen=True)
class Case:
    label: str
    actor: Actor
    purpose: str
    category: str
    opted_out: bool  # the subject withdrew marketing email
    allowed: bool  # the answer every engine must give


CASES = (
    Case("marketing reads email for marketing", Actor.role("marketing"), MARKETING,
         "user.contact.email", opted_out=False, allowed=True),
    Case("... the subject opted out", Actor.role("marketing"), MARKETING,
         "user.contact.email", opted_out=True, allowed=False),
    Case("support lacks the marketing purpose", Actor.role("support"), MARKETING,
         "user.contact.email", opted_out=False, allowed=False),
    Case("card number disclosed to payment gateway", Actor.recipient("payment_gateway"),
         "essential.service.payment_processing", "user.financial.credit_card",
         opted_out=False, allowed=True),
    Case("sales reads phone (via user.contact) for support", Actor.role("sales"),
         "essential.service.operations.support", "user.contact.phone_number",
         opted_out=False, allowed=True),
    Case("marketing may not see phone", Actor.role("marketing"), MARKETING,
         "user.contact.phone_number", opted_out=False, allowed=False),
    Case("support answers an opted-out subject", Actor.role("support"),
         "essential.service.operations.support", "user.contact.email",
         opted_out=True, allowed=True),
    Case("payment gateway may not see email", Actor.recipient("payment_gateway"),
         "essential.service.payment_processing", "user.contact.email",
         opted_out=False, allowed=False),
)  # fmt: skip


def check(condition: bool, message: str) -> None:
    """An assertion that ``python -O`` does not remove."""
    if not condition:
        raise AssertionError(message)


# --- timing -----------------------------------------------------------------------------------


def per_call_ns(run: Callable[[], object], calls: int, batches: int) -> list[float]:
    """Call ``run`` (which makes ``calls`` calls) ``batches`` times; ns per call for each."""
    run()  # warm up
    samples = []
    clock = time.perf_counter_ns
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(batches):
            t0 = clock()
            run()
            samples.append((clock() - t0) / calls)
    finally:
        if enabled:
            gc.enable()
    return samples


def total_ms(run: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            run()
            samples.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        if enabled:
            gc.enable()
    return samples


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def p99(xs: Sequence[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def cycle(items: Sequence[object], calls: int) -> list[object]:
    """``calls`` items cycling through ``items``, in order."""
    return [items[i % len(items)] for i in range(calls)]


# --- Pledge -----------------------------------------------------------------------------------

OPTED_OUT = Choices.of(withdrawn=[purpose_choice(MARKETING)])


def pledge_request(case: Case) -> Request:
    choices = OPTED_OUT if case.opted_out else Choices()
    return Request(case.actor, case.purpose, (case.category,), choices)


def pledge_loop(policy: CompiledPolicy, requests: list[Request]) -> Callable[[], None]:
    def run() -> None:
        for request in requests:
            decide(policy, request)

    return run


def baseline_loop(policy: CompiledPolicy, requests: list[Request]) -> Callable[[], None]:
    """The harness alone: the same loop calling a function that does nothing."""

    def nothing(policy: CompiledPolicy, request: Request) -> None:
        return None

    def run() -> None:
        for request in requests:
            nothing(policy, request)

    return run


def cold_costs(policy: Policy, samples: int) -> dict[str, float]:
    """Median ns of a new (actor, purpose) pair's first decision, and of its second."""
    request = pledge_request(CASES[0])
    # another pair that has already seen user.contact.email, so only the pair is new
    other = Request(Actor.role("support"), "essential.service.operations.support",
                    ("user.contact.email",))  # fmt: skip
    clock = time.perf_counter_ns
    fresh, warm, second = [], [], []
    for _ in range(samples):
        compiled = compile_policy(policy)
        t0 = clock()
        decide(compiled, request)
        t1 = clock()
        decide(compiled, request)
        t2 = clock()
        fresh.append(t1 - t0)
        second.append(t2 - t1)
        compiled = compile_policy(policy)
        decide(compiled, other)
        t0 = clock()
        decide(compiled, request)
        warm.append(clock() - t0)
    return {"fresh": median(fresh), "warm": median(warm), "second": median(second)}


# --- the peers' rules, generated from the Pledge policy model ----------------------------------


@dataclass(frozen=True)
class Grant:
    principal: tuple[str, str]  # (kind, name)
    purposes: tuple[str, ...]
    categories: tuple[str, ...]


def grants(policy: Policy) -> list[Grant]:
    """Who acts for which purposes and sees which categories; a granted purpose covers the
    narrower purposes the policy names."""
    found = []
    actors = [("role", n, r.purposes, r.categories) for n, r in policy.roles.items()]
    actors += [("recipient", n, r.purposes, r.categories) for n, r in policy.recipients.items()]
    for kind, name, granted, categories in actors:
        purposes = tuple(p for p in policy.purposes if any(covers(g, p) for g in granted))
        found.append(Grant((kind, name), purposes, tuple(categories)))
    return found


def opt_out_purposes(policy: Policy) -> list[str]:
    for name, purpose in policy.purposes.items():
        check(purpose.basis is not Basis.opt_in, f"{name}: opt-in is not modelled for the peers")
    return [n for n, p in policy.purposes.items() if p.basis is Basis.opt_out]


def category_tree(policy: Policy) -> dict[str, str | None]:
    """Every category the rules or the requests name, with all its ancestors: key -> parent."""
    keys = {c.category for c in CASES}
    keys.update(c for g in grants(policy) for c in g.categories)
    tree: dict[str, str | None] = {}
    for key in keys:
        for k in ancestors(key):
            parent = k.rpartition(".")[0]
            tree[k] = parent or None
    return dict(sorted(tree.items()))


CASBIN_MODEL = """\
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, gate

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.act == p.act && g(r.obj.category, p.obj) \
&& (p.gate == "none" || !(r.act in r.obj.withdrawn))
"""


class Datum:
    """pycasbin's ``obj``: one category of one subject's data, and that subject's opt-outs."""

    __slots__ = ("category", "withdrawn")

    def __init__(self, category: str, withdrawn: frozenset[str]) -> None:
        self.category = category
        self.withdrawn = withdrawn

    def __str__(self) -> str:  # casbin logs every request
        return self.category


def casbin_enforcer(policy: Policy, workdir: Path) -> tuple[casbin.Enforcer, int]:
    """RBAC with resource roles (``g``: category -> parent category) and attributes (the
    subject's opt-outs on ``obj``). One ``p`` line per actor, purpose and category."""
    gated = set(opt_out_purposes(policy))
    lines = [
        f"p, {kind}:{name}, {category}, {purpose}, {'opt_out' if purpose in gated else 'none'}"
        for g in grants(policy)
        for kind, name in [g.principal]
        for purpose in g.purposes
        for category in g.categories
    ]
    lines += [f"g, {k}, {parent}" for k, parent in category_tree(policy).items() if parent]
    (workdir / "model.conf").write_text(CASBIN_MODEL)
    (workdir / "policy.csv").write_text("\n".join(lines) + "\n")
    enforcer = casbin.Enforcer(str(workdir / "model.conf"), str(workdir / "policy.csv"))
    return enforcer, sum(line.startswith("p,") for line in lines)


def casbin_request(case: Case) -> tuple[str, Datum, str]:
    withdrawn = frozenset({MARKETING}) if case.opted_out else frozenset()
    kind, name = case.actor
    return f"{kind}:{name}", Datum(case.category, withdrawn), case.purpose


def casbin_loop(enforcer: casbin.Enforcer, requests: list[tuple[str, Datum, str]]):
    enforce = enforcer.enforce

    def run() -> None:
        for sub, obj, act in requests:
            enforce(sub, obj, act)

    return run


CEDAR_TYPES = {"role": "Role", "recipient": "Recipient"}


def cedar_policies(policy: Policy) -> str:
    statements = []
    for g in grants(policy):
        kind, name = g.principal
        actions = ", ".join(f'Action::"{p}"' for p in g.purposes)
        visible = " || ".join(f'resource in Category::"{c}"' for c in g.categories)
        statements.append(
            f'permit (principal == {CEDAR_TYPES[kind]}::"{name}", action in [{actions}], '
            f"resource)\n  when {{ {visible} }};"
        )
    for purpose in opt_out_purposes(policy):
        statements.append(
            f'forbid (principal, action == Action::"{purpose}", resource)\n'
            f'  when {{ context.subject.withdrawn.contains("{purpose}") }};'
        )
    return "\n".join(statements) + "\n"


def cedar_entities(policy: Policy, subjects: dict[str, list[str]]) -> list[dict[str, object]]:
    """Categories as a hierarchy, and one Subject per id with the purposes it withdrew."""
    entities: list[dict[str, object]] = [
        {
            "uid": {"type": "Category", "id": key},
            "attrs": {},
            "parents": [{"type": "Category", "id": parent}] if parent else [],
        }
        for key, parent in category_tree(policy).items()
    ]
    entities += [
        {"uid": {"type": "Subject", "id": sid}, "attrs": {"withdrawn": withdrawn}, "parents": []}
        for sid, withdrawn in subjects.items()
    ]
    return entities


def cedar_request(case: Case, subject: str, *, fast: bool = True) -> dict[str, object]:
    """With ``fast``, entity uids as dicts and the context as JSON text: cedarpy's fastest
    request form. Without, the form its README shows: uids in Cedar syntax (parsed on every
    call) and the context as a dict (serialised on every call)."""
    kind, name = case.actor
    context = {"subject": {"__entity": {"type": "Subject", "id": subject}}}
    if not fast:
        return {
            "principal": f'{CEDAR_TYPES[kind]}::"{name}"',
            "action": f'Action::"{case.purpose}"',
            "resource": f'Category::"{case.category}"',
            "context": context,
        }
    return {
        "principal": {"type": CEDAR_TYPES[kind], "id": name},
        "action": {"type": "Action", "id": case.purpose},
        "resource": {"type": "Category", "id": case.category},
        "context": json.dumps(context),
    }


def cedar_loop(requests: list[dict[str, object]], policies: object, entities: object):
    is_authorized = cedarpy.is_authorized

    def run() -> None:
        for request in requests:
            is_authorized(request, policies, entities)

    return run


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Figures:
    single: dict[str, list[float]]  # engine -> per-call ns, one per batch
    cases: dict[str, dict[str, float]]  # case label -> engine -> median ns
    first_in_process_ns: float
    cold: dict[str, float]
    batch_ms: dict[str, float]  # engine -> median total ms for the subjects
    cedar_entities_ms: float
    casbin_p_lines: int
    cedar_statements: int


def run(size: Size) -> Figures:
    path = ROOT / POLICY_FILE
    compiled = load_policy(path)
    model = compiled.policy

    # the first decision of the process: plan, category checks, taxonomy, lazy imports
    t0 = time.perf_counter_ns()
    decide(compiled, pledge_request(CASES[0]))
    first_in_process = time.perf_counter_ns() - t0

    with tempfile.TemporaryDirectory(prefix="pledge-bench-") as tmp:
        enforcer, p_lines = casbin_enforcer(model, Path(tmp))  # reads the files here
    policy_text = cedar_policies(model)
    cedar_set = cedarpy.PolicySet.from_str(policy_text)
    single_subjects = {"s-in": [], "s-out": [MARKETING]}
    entity_json = json.dumps(cedar_entities(model, single_subjects))
    cedar_ents = cedarpy.Entities.from_json_str(entity_json)

    pledge_reqs = [pledge_request(c) for c in CASES]
    casbin_reqs = [casbin_request(c) for c in CASES]
    cedar_reqs = [cedar_request(c, "s-out" if c.opted_out else "s-in") for c in CASES]
    cedar_plain = [cedar_request(c, "s-out" if c.opted_out else "s-in", fast=False) for c in CASES]

    # every engine must give every request the expected answer
    for case, p, c, d, e in zip(
        CASES, pledge_reqs, casbin_reqs, cedar_reqs, cedar_plain, strict=True
    ):
        answers = {
            "pledge": decide(compiled, p).allowed,
            "pycasbin": enforcer.enforce(*c),
            "cedarpy": cedarpy.is_authorized(d, cedar_set, cedar_ents).allowed,
            "cedarpy (plain)": cedarpy.is_authorized(e, cedar_set, cedar_ents).allowed,
            "cedarpy (text)": cedarpy.is_authorized(d, policy_text, entity_json).allowed,
        }
        check(
            all(a is case.allowed for a in answers.values()),
            f"engines disagree on '{case.label}' (expected {case.allowed}): {answers}",
        )

    # single decisions: the whole mix, cycled
    n, m = size.pledge_calls, size.peer_calls
    single = {
        "pledge": per_call_ns(pledge_loop(compiled, cycle(pledge_reqs, n)), n, size.pledge_batches),
        "harness": per_call_ns(
            baseline_loop(compiled, cycle(pledge_reqs, n)), n, size.pledge_batches
        ),
        "pycasbin": per_call_ns(casbin_loop(enforcer, cycle(casbin_reqs, m)), m, size.peer_batches),
        "cedarpy": per_call_ns(
            cedar_loop(cycle(cedar_reqs, m), cedar_set, cedar_ents), m, size.peer_batches
        ),
        "cedarpy (plain)": per_call_ns(
            cedar_loop(cycle(cedar_plain, m), cedar_set, cedar_ents), m, size.peer_batches
        ),
        "cedarpy (text)": per_call_ns(
            cedar_loop(cycle(cedar_reqs, m), policy_text, entity_json), m, size.peer_batches
        ),
    }

    # per request
    cases: dict[str, dict[str, float]] = {}
    k, kb = size.case_calls, size.case_batches
    for case, p, c, d in zip(CASES, pledge_reqs, casbin_reqs, cedar_reqs, strict=True):
        cases[case.label] = {
            "pledge": median(per_call_ns(pledge_loop(compiled, [p] * k * 5), k * 5, kb * 2)),
            "pycasbin": median(per_call_ns(casbin_loop(enforcer, [c] * k), k, kb)),
            "cedarpy": median(per_call_ns(cedar_loop([d] * k, cedar_set, cedar_ents), k, kb)),
        }

    cold = cold_costs(model, size.cold_samples)

    # batch: one request, many subjects, 30% opted out of marketing email (10% withdrew
    # something irrelevant to it)
    rng = random.Random(20150413)
    order = list(range(size.subjects))
    rng.shuffle(order)
    n_out, n_other = size.subjects * 3 // 10, size.subjects // 10
    withdrawn: list[list[str]] = [[] for _ in range(size.subjects)]
    for i in order[:n_out]:
        withdrawn[i] = [MARKETING]
    for i in order[n_out : n_out + n_other]:
        withdrawn[i] = ["functional.service"]
    batch_case = CASES[0]
    choices = [Choices.of(withdrawn=[purpose_choice(p) for p in w]) for w in withdrawn]
    batch_request = pledge_request(batch_case)
    per_subject = [batch_request._replace(choices=c) for c in choices]
    casbin_batch = [
        ("role:marketing", Datum(batch_case.category, frozenset(w)), batch_case.purpose)
        for w in withdrawn
    ]
    ids = [f"s-{i}" for i in range(size.subjects)]
    t0 = time.perf_counter_ns()
    big_ents = cedarpy.Entities.from_json_str(
        json.dumps(cedar_entities(model, dict(zip(ids, withdrawn, strict=True))))
    )
    cedar_entities_ms = (time.perf_counter_ns() - t0) / 1e6
    cedar_batch = [cedar_request(batch_case, sid) for sid in ids]

    expected = [w != [MARKETING] for w in withdrawn]
    check(sum(expected) == size.subjects - n_out, "batch set-up: wrong number opted out")
    got = [d.allowed for d in decide_many(compiled, batch_request, choices)]
    check(got == expected, "pledge decide_many disagrees with the expected answers")
    got = [decide(compiled, r).allowed for r in per_subject]
    check(got == expected, "pledge decide disagrees with decide_many")

    batch_ms = {
        "pledge": median(
            total_ms(lambda: decide_many(compiled, batch_request, choices), size.batch_repeats)
        ),
        "pledge loop": median(total_ms(pledge_loop(compiled, per_subject), size.batch_repeats)),
    }
    results: list[object] = []
    timed = total_ms(
        lambda: results.append(cedarpy.is_authorized_batch(cedar_batch, cedar_set, big_ents)),
        size.peer_batch_repeats,
    )
    batch_ms["cedarpy"] = median(timed)
    got = [r.allowed for r in results[-1]]
    check(got == expected, "cedarpy is_authorized_batch disagrees with pledge")
    results.clear()
    timed = total_ms(
        lambda: results.append(enforcer.batch_enforce(casbin_batch)), size.peer_batch_repeats
    )
    batch_ms["pycasbin"] = median(timed)
    check(results[-1] == expected, "pycasbin batch_enforce disagrees with pledge")

    return Figures(
        single=single,
        cases=cases,
        first_in_process_ns=first_in_process,
        cold=cold,
        batch_ms=batch_ms,
        cedar_entities_ms=cedar_entities_ms,
        casbin_p_lines=p_lines,
        cedar_statements=policy_text.count(";"),
    )


# --- the report -------------------------------------------------------------------------------


def ns(x: float) -> str:
    return f"{x:,.0f}"


def goals(f: Figures, size: Size) -> list[str]:
    pledge = median(f.single["pledge"])
    vs_casbin = median(f.single["pycasbin"]) / pledge
    vs_cedar = median(f.single["cedarpy"]) / pledge
    batch = f.batch_ms["pledge"] * GOAL_BATCH_SUBJECTS / size.subjects
    scaled = "" if size.subjects == GOAL_BATCH_SUBJECTS else f" (scaled from {size.subjects:,})"

    def line(ok: bool, text: str) -> str:
        return f"{'PASS' if ok else 'MISS'}: {text}"

    return [
        line(pledge <= GOAL_SINGLE_NS, f"median single decision {ns(pledge)} ns <= 2 µs"),
        line(vs_casbin >= GOAL_VS_CASBIN, f"{vs_casbin:.0f}x faster than pycasbin (goal >= 20x)"),
        line(
            vs_cedar >= GOAL_VS_CEDAR,
            f"{vs_cedar:.0f}x faster than cedarpy per decision (goal >= 50x)",
        ),
        line(
            batch < GOAL_BATCH_MS,
            f"decide_many over 100,000 subjects {batch:.1f} ms{scaled} < 100 ms",
        ),
    ]


def markdown(f: Figures, size: Size, quick: bool) -> str:
    pledge = median(f.single["pledge"])
    rows = [
        ("Pledge `decide`", "pledge"),
        ("pycasbin `Enforcer.enforce`", "pycasbin"),
        (
            "cedarpy `is_authorized`, pre-parsed `PolicySet` + `Entities`, uids as dicts, "
            "context as JSON (its fastest form; the goal compares with this)",
            "cedarpy",
        ),
        (
            'cedarpy `is_authorized`, pre-parsed handles, uids as `Type::"id"` strings, '
            "context as a dict (the README form)",
            "cedarpy (plain)",
        ),
        (
            "cedarpy `is_authorized`, fastest request form, policy text + entity JSON parsed "
            "per call",
            "cedarpy (text)",
        ),
    ]
    out = [
        "## Decision function: Pledge, pycasbin, cedarpy",
        "",
        "Written by `bench/decide.py`"
        + (" (**quick run: small samples**)" if quick else "")
        + f". Command: `{command_line()}`",
        "",
        machine_summary(),
        "",
        f"Policy `{POLICY_FILE}`. A mix of {len(CASES)} single-category requests "
        f"({sum(c.allowed for c in CASES)} allowed, {sum(not c.allowed for c in CASES)} denied), "
        "built beforehand; every engine gives every request the same, expected answer "
        "(checked before timing). Pledge: "
        f"{size.pledge_batches:,} batches of {size.pledge_calls:,} calls; peers: "
        f"{size.peer_batches:,} batches of {size.peer_calls:,} calls. Median and p99 are of "
        "the per-call time of each batch; garbage collector off while timing.",
        "",
        "### Single decisions",
        "",
        "| engine | median ns / decision | p99 ns / decision | Pledge is faster by |",
        "|---|---:|---:|---:|",
    ]
    for title, key in rows:
        xs = f.single[key]
        ratio = "—" if key == "pledge" else f"{median(xs) / pledge:.0f}x"
        out.append(f"| {title} | {ns(median(xs))} | {ns(p99(xs))} | {ratio} |")
    h = f.single["harness"]
    out += [
        f"| _harness alone: the loop calling a no-op function_ | {ns(median(h))} | "
        f"{ns(p99(h))} | |",
        "",
        "### Per request (median ns / decision)",
        "",
        "| request | answer | Pledge | pycasbin | cedarpy |",
        "|---|---|---:|---:|---:|",
    ]
    for case in CASES:
        c = f.cases[case.label]
        answer = "allow" if case.allowed else "deny"
        out.append(
            f"| {case.label} | {answer} | {ns(c['pledge'])} | {ns(c['pycasbin'])} | "
            f"{ns(c['cedarpy'])} |"
        )
    out += [
        "",
        "### Pledge: first call vs steady state",
        "",
        "| call | ns |",
        "|---|---:|",
        f"| first decision of the process (one sample: plan, category checks, lazy imports) | "
        f"{ns(f.first_in_process_ns)} |",
        f"| new (actor, purpose) pair on a freshly compiled policy (median of "
        f"{size.cold_samples}) | {ns(f.cold['fresh'])} |",
        f"| new pair on a policy that already checked the category | {ns(f.cold['warm'])} |",
        f"| the same pair's second call (single timed call, clock overhead included) | "
        f"{ns(f.cold['second'])} |",
        f"| steady state (mix median, above) | {ns(pledge)} |",
        "",
        f"### Batch: one request, {size.subjects:,} subjects, 30% opted out",
        "",
        "Role `marketing` reads `user.contact.email` for marketing email; each subject has its "
        "own choices (30% withdrew marketing email, 10% something else). Building the inputs "
        "is not timed.",
        "",
        "| engine | total ms | ns / decision |",
        "|---|---:|---:|",
    ]
    batch_rows = [
        (f"Pledge `decide_many` (median of {size.batch_repeats})", "pledge"),
        (f"Pledge `decide` in a loop (median of {size.batch_repeats})", "pledge loop"),
        (
            f"cedarpy `is_authorized_batch`, pre-parsed handles "
            f"(median of {size.peer_batch_repeats})",
            "cedarpy",
        ),
        (
            f"pycasbin `batch_enforce` (a loop over `enforce`; median of "
            f"{size.peer_batch_repeats})",
            "pycasbin",
        ),
    ]
    for title, key in batch_rows:
        ms = f.batch_ms[key]
        out.append(f"| {title} | {ms:,.1f} | {ns(ms * 1e6 / size.subjects)} |")
    out += [
        "",
        f"Not timed above: parsing cedarpy's `Entities` handle for {size.subjects:,} subjects "
        f"took {f.cedar_entities_ms:,.0f} ms.",
        "",
        "### Goals",
        "",
        *[f"- {g}" for g in goals(f, size)],
        "",
        "### What the peers are given",
        "",
        "The peers' rules are generated from the same policy model: role/recipient -> purpose "
        "grants, role/recipient -> category visibility (a category covers its descendants) and "
        "the subject's opt-out of an opt-out purpose. pycasbin: RBAC with resource roles "
        f"(`g`: category -> parent) and attributes, {f.casbin_p_lines} `p` lines, matcher "
        '`r.sub == p.sub && r.act == p.act && g(r.obj.category, p.obj) && (p.gate == "none" '
        "|| !(r.act in r.obj.withdrawn))`, `obj` carrying the subject's opt-outs. cedarpy: "
        f"{f.cedar_statements} policies, one `permit` per actor and a `forbid` on "
        "`context.subject.withdrawn`, the subject an entity with a `withdrawn` attribute, "
        "categories an entity hierarchy. Pledge also does work the peers skip: it checks that "
        "the category was collected for the purpose, pass-through categories, channel "
        "opt-outs and stop-all, and returns reasons and obligations, not a boolean.",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny samples, for a smoke test")
    parser.add_argument(
        "--write", action="store_true", help="with --quick: write docs/benchmarks.md anyway"
    )
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    figures = run(size)
    text = markdown(figures, size, args.quick)
    print(text)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if not args.quick or args.write:
        print(f"wrote {write_section(SECTION, text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
