"""The decision function, and the plans that let it answer in about a microsecond.

A policy is compiled once. The first question about an (actor, purpose) pair builds a
:class:`Plan`: whether the actor holds the purpose at all, which categories it may see and
where each was collected for that purpose, and which of the subject's choices could block it.
Later questions for the same pair only test the subject's choices against a few precomputed
sets, and return a shared, immutable :class:`Decision`.

Deny by default: a category, purpose or actor the policy does not name yields no data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pledge.errors import InputError
from pledge.policy.bounded import BoundedCache
from pledge.policy.decision import (
    Actor,
    Choices,
    Decision,
    Obligation,
    Reason,
    Request,
    channel_choice,
    purpose_choice,
    recipient_choice,
    visibility_choice,
)
from pledge.policy.model import (
    Basis,
    Channel,
    Condition,
    Event,
    MessageClass,
    Policy,
    RecipientKind,
    Storage,
)
from pledge.policy.taxonomy import ancestors, covers
from pledge.policy.windows import Followed, Windows

CHANNEL_CATEGORIES: dict[Channel, tuple[str, ...]] = {
    Channel.email: ("user.contact.email", "user.name"),
    Channel.sms: ("user.contact.phone_number", "user.name"),
    Channel.phone: ("user.contact.phone_number", "user.name"),
    Channel.post: ("user.contact.address", "user.name"),
}

# released, withheld (with reasons), reasons for the release, and every category asked about
_CategoryVerdict = tuple[
    frozenset[str], tuple[tuple[str, Reason], ...], tuple[Reason, ...], frozenset[str]
]
CACHE_LIMIT = 4096  # entries per cache keyed by caller input (see pledge.policy.bounded)
ORDERINGS_LIMIT = 1024  # category lists remembered in the order they were asked in


@dataclass(slots=True)
class _Gate:
    """The per-subject part of a plan: which choices allow or block the use."""

    needs: tuple[tuple[frozenset[str], Reason], ...]  # each needs one of its keys granted
    block: tuple[tuple[frozenset[str], Reason], ...]  # any of these keys withdrawn blocks
    stop_all_reason: Reason | None
    consent_reasons: tuple[Reason, ...]

    def check(self, choices: Choices) -> Reason | None:
        if self.stop_all_reason is not None and choices.stop_all:
            return self.stop_all_reason
        withdrawn = choices.withdrawn
        if withdrawn:
            for keys, reason in self.block:
                if not withdrawn.isdisjoint(keys):
                    return reason
        granted = choices.granted
        for keys, reason in self.needs:
            if granted.isdisjoint(keys):
                return reason
        return None


@dataclass(slots=True)
class Plan:
    """Everything about one (actor, purpose) pair that does not depend on the subject."""

    policy: CompiledPolicy
    actor: Actor
    purpose: str
    denied: Decision | None
    visible: tuple[str, ...] = ()
    grant_reason: Reason | None = None
    gate: _Gate | None = None
    legal_ref_required: bool = False
    min_group_size: int | None = None
    obligations: tuple[Obligation, ...] = ()
    elective: bool = False  # a recipient that sees only the fields a person chose to show
    _categories: BoundedCache[tuple[tuple[str, ...], frozenset[str] | None], _CategoryVerdict] = (
        field(default_factory=lambda: BoundedCache(CACHE_LIMIT))
    )
    # The same verdicts by the order a caller asked in: a hit costs one lookup, no sorting.
    _as_asked: BoundedCache[tuple[tuple[str, ...], frozenset[str] | None], _CategoryVerdict] = (
        field(default_factory=lambda: BoundedCache(ORDERINGS_LIMIT))
    )
    _decisions: BoundedCache[tuple[object, ...], Decision] = field(
        default_factory=lambda: BoundedCache(CACHE_LIMIT)
    )

    def categories(
        self, wanted: tuple[str, ...], points: frozenset[str] | None
    ) -> _CategoryVerdict:
        """The verdict on ``wanted``, whatever their order: it is judged once per set (in
        sorted order), so reordering cannot change it, and the orderings seen are capped."""
        key = (wanted, points)
        verdict = self._as_asked.get(key)
        if verdict is None:
            normal = (tuple(sorted(set(wanted))), points)
            verdict = self._categories.get(normal)
            if verdict is None:
                verdict = self._categories.put(normal, self._judge_categories(*normal))
            self._as_asked.put(key, verdict)
        return verdict

    def _judge_categories(
        self, wanted: tuple[str, ...], points: frozenset[str] | None
    ) -> _CategoryVerdict:
        released: list[str] = []
        withheld: list[tuple[str, Reason]] = []
        reasons: list[Reason] = []
        for category in dict.fromkeys(wanted):
            self.policy.require_category(category)
            reason, allow = self._judge_category(category, points)
            if reason is None:
                released.append(category)
                if allow is not None:
                    reasons.append(allow)
            else:
                withheld.append((category, reason))
        return frozenset(released), tuple(withheld), tuple(reasons), frozenset(wanted)

    def _judge_category(
        self, category: str, points: frozenset[str] | None
    ) -> tuple[Reason | None, Reason | None]:
        policy, actor = self.policy, self.actor
        section = f"{actor.kind}s"
        suffix = ".categories" if actor.kind != "communication" else ""
        if not any(covers(granted, category) for granted in self.visible):
            return Reason(
                "category_not_granted",
                f"{actor} may not see '{category}'",
                f"{section}.{actor.name}{suffix}",
            ), None
        if policy.is_pass_through(category) and actor.kind != "recipient":
            return Reason(
                "pass_through",
                f"'{category}' is never stored: the website hands it to the recipient itself",
                f"categories.{category}",
            ), None
        if policy.basis(self.purpose) is Basis.legal_obligation:
            return None, None
        sources = policy.points_collecting_for(category, self.purpose, points)
        if not sources:
            return Reason(
                "not_collected_for_purpose",
                f"'{category}' was not collected for '{self.purpose}'",
                "collection_points",
            ), None
        return None, Reason(
            "collected_for_purpose",
            f"'{category}' is collected at {', '.join(sources)} for this purpose",
            f"collection_points.{sources[0]}.purposes",
        )


class CompiledPolicy:
    """A checked policy in the form decisions need. Build it with :func:`compile_policy`."""

    def __init__(
        self,
        policy: Policy,
        history: Iterable[CompiledPolicy] = (),
        windows: Windows | None = None,
        transfers: frozenset[str] = frozenset(),
    ) -> None:
        self.policy = policy
        self.transfers = transfers  # recipients a business transfer to is recorded for
        self.version = policy.version
        self.history: dict[str, CompiledPolicy] = {h.version: h for h in history}
        if windows is None:
            order = [v for v in self.history if v != self.version]
            windows = Windows((*order, self.version))
        self.windows = windows
        self._opt_out = {
            version: not compiled.policy.changes.material_change_needs_consent
            for version, compiled in (*self.history.items(), (self.version, self))
        }
        self._moments: dict[tuple[frozenset[str], frozenset[str]], CompiledPolicy] = {
            (windows.closed, transfers): self
        }
        self._plans: BoundedCache[tuple[Actor, str], Plan] = BoundedCache(CACHE_LIMIT)
        self._pass_through = tuple(
            key for key, h in policy.categories.items() if h.storage is Storage.pass_through
        )
        self._known_categories: set[str] = set()
        self._sources: BoundedCache[tuple[str, str, frozenset[str] | None], list[str]] = (
            BoundedCache(CACHE_LIMIT)
        )

    def at(self, now: dt.datetime, transfers: frozenset[str] | None = None) -> CompiledPolicy:
        """This policy as it decides at ``now``: the same rules, with the notice windows that
        had closed by then and the business transfers recorded (``transfers``: the recipients
        one was recorded to; None: as this one has them). One compiled form per combination,
        its plans kept."""
        closed = self.windows.closed_at(now)
        events = self.transfers if transfers is None else transfers
        found = self._moments.get((closed, events))
        if found is None:
            found = CompiledPolicy(self.policy, self.history.values(), self.windows.at(now), events)
            found._moments = self._moments
            self._moments[closed, events] = found
        return found

    def followed(self, collected: str, choices: Choices) -> Followed:
        """Which version data collected under ``collected`` follows for a person with these
        choices (see :mod:`pledge.policy.windows`)."""
        return self.windows.follows(collected, self.version, choices, self._opt_out)

    def version_policy(self, version: str) -> CompiledPolicy:
        return self if version == self.version else self.history[version]

    # --- facts about the policy used while planning -----------------------------------------

    def basis(self, purpose: str) -> Basis:
        return self.policy.purposes[purpose].basis

    def is_pass_through(self, category: str) -> bool:
        return any(covers(p, category) for p in self._pass_through)

    def require_category(self, category: str) -> None:
        if category in self._known_categories:
            return
        from pledge.policy.consistency import taxonomy_for
        from pledge.policy.loader import suggest

        taxonomy = taxonomy_for(self.policy)
        if not taxonomy.has("data_category", category):
            hint = suggest(category, taxonomy.keys("data_category"))
            raise InputError(f"unknown data category '{category}'{hint}", category=category)
        self._known_categories.add(category)

    def points_collecting_for(
        self, category: str, purpose: str, points: frozenset[str] | None
    ) -> list[str]:
        """Collection points (among ``points``) that collect ``category`` for ``purpose``."""
        key = (category, purpose, points)
        found = self._sources.get(key)
        if found is None:
            found = self._sources.put(
                key,
                [
                    name
                    for name, point in self.policy.collection_points.items()
                    if (points is None or name in points)
                    and any(covers(allowed, purpose) for allowed in point.purposes)
                    and any(
                        (covers(f.category, category) or covers(category, f.category))
                        and (f.purposes is None or any(covers(p, purpose) for p in f.purposes))
                        for f in point.fields.values()
                    )
                ],
            )
        return found

    # --- plans ------------------------------------------------------------------------------

    def plan(self, actor: Actor, purpose: str) -> Plan:
        key = (actor, purpose)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans.put(key, _build_plan(self, actor, purpose))
        return plan


def compile_policy(
    policy: Policy, history: Iterable[CompiledPolicy] = (), windows: Windows | None = None
) -> CompiledPolicy:
    """Compile ``policy``; ``history`` holds the earlier versions data may have been collected
    under, whose limits still apply to that data; ``windows`` says when each version's notice
    period ends (none known: no window has closed)."""
    return CompiledPolicy(policy, history, windows)


def _deny(reason: Reason) -> Decision:
    return Decision(False, frozenset(), (), (reason,))


def _build_plan(compiled: CompiledPolicy, actor: Actor, purpose: str) -> Plan:
    policy = compiled.policy
    if purpose not in policy.purposes:
        from pledge.policy.loader import suggest

        raise InputError(
            f"unknown purpose '{purpose}'{suggest(purpose, policy.purposes)}", purpose=purpose
        )
    spec = policy.purposes[purpose]
    if actor.kind == "role":
        return _role_plan(compiled, actor, purpose)
    if actor.kind == "recipient":
        return _recipient_plan(compiled, actor, purpose)
    if actor.kind == "communication":
        return _communication_plan(compiled, actor, purpose, spec.channel)
    raise InputError(f"unknown actor kind '{actor.kind}'; use role, recipient or communication")


def _unknown_actor(compiled: CompiledPolicy, actor: Actor, names: Iterable[str]) -> InputError:
    from pledge.policy.loader import suggest

    return InputError(
        f"the policy (version {compiled.version}) has no {actor}{suggest(actor.name, names)}",
        actor=actor.name,
    )


def _grant(
    compiled: CompiledPolicy, actor: Actor, purposes: Sequence[str], purpose: str, ref: str
) -> Reason | None:
    if any(covers(granted, purpose) for granted in purposes):
        return Reason("actor_granted", f"{actor} acts for '{purpose}'", ref)
    return None


def _refused(compiled: CompiledPolicy, actor: Actor, purpose: str, message: str, ref: str) -> Plan:
    """The plan of an actor the policy does not let act for ``purpose`` at all."""
    return Plan(compiled, actor, purpose, _deny(Reason("purpose_not_granted", message, ref)))


def _role_plan(compiled: CompiledPolicy, actor: Actor, purpose: str) -> Plan:
    role = compiled.policy.roles.get(actor.name)
    if role is None:
        raise _unknown_actor(compiled, actor, compiled.policy.roles)
    ref = f"roles.{actor.name}.purposes"
    granted = _grant(compiled, actor, role.purposes, purpose, ref)
    if granted is None:
        return _refused(compiled, actor, purpose, f"{actor} may not act for '{purpose}'", ref)
    aggregates = role.min_group_size
    return Plan(
        compiled,
        actor,
        purpose,
        None,
        tuple(role.categories),
        granted,
        _subject_gate(compiled, purpose, consent_to=None),
        min_group_size=aggregates,
        obligations=()
        if aggregates is None
        else (Obligation("aggregate_only", f"min_group_size={aggregates}"),),
    )


def _recipient_plan(compiled: CompiledPolicy, actor: Actor, purpose: str) -> Plan:
    recipient = compiled.policy.recipients.get(actor.name)
    if recipient is None:
        raise _unknown_actor(compiled, actor, compiled.policy.recipients)
    ref = f"recipients.{actor.name}.purposes"
    granted = _grant(compiled, actor, recipient.purposes, purpose, ref)
    if granted is None:
        return _refused(
            compiled, actor, purpose, f"{actor} does not receive data for '{purpose}'", ref
        )
    event = recipient.after_event or (
        Event.business_transfer if recipient.kind is RecipientKind.successor else None
    )
    if event is not None and actor.name not in compiled.transfers:
        return Plan(
            compiled,
            actor,
            purpose,
            _deny(
                Reason(
                    "event_not_recorded",
                    f"{actor} receives data only after a {event.value.replace('_', ' ')} to it "
                    "is recorded, and none is",
                    f"recipients.{actor.name}."
                    + ("after_event" if recipient.after_event is not None else "kind"),
                )
            ),
        )
    condition = recipient.condition
    obligations = [Obligation("record_disclosure", actor.name)]
    if condition is Condition.legal_reference:
        obligations.append(Obligation("record_legal_reference"))
    if condition is Condition.aggregate:
        obligations.append(
            Obligation("aggregate_only", f"min_group_size={recipient.min_group_size}")
        )
    return Plan(
        compiled,
        actor,
        purpose,
        None,
        tuple(recipient.categories),
        granted,
        _subject_gate(
            compiled,
            purpose,
            consent_to=actor.name if condition is Condition.consent else None,
        ),
        legal_ref_required=condition is Condition.legal_reference,
        min_group_size=recipient.min_group_size,
        obligations=tuple(obligations),
        elective=condition is Condition.subject_election,
    )


def _communication_plan(
    compiled: CompiledPolicy, actor: Actor, purpose: str, channel: Channel | None
) -> Plan:
    message = compiled.policy.communications.get(actor.name)
    if message is None:
        raise _unknown_actor(compiled, actor, compiled.policy.communications)
    ref = f"communications.{actor.name}.purpose"
    granted = _grant(compiled, actor, [message.purpose], purpose, ref)
    if granted is None or channel is None:
        return _refused(compiled, actor, purpose, f"{actor} is not sent for '{purpose}'", ref)
    gate = _subject_gate(compiled, purpose, consent_to=None)
    if message.message_class is MessageClass.legal:
        # A message the law requires still reaches people who asked for no correspondence.
        gate.stop_all_reason = None
    obligations: list[Obligation] = []
    if message.message_class is MessageClass.marketing:
        obligations += [Obligation("marketing_footer"), Obligation("unsubscribe_link")]
        if message.advertisement_notice:
            obligations.append(Obligation("advertisement_notice"))
    return Plan(
        compiled,
        actor,
        purpose,
        None,
        CHANNEL_CATEGORIES[channel],
        granted,
        gate,
        obligations=tuple(obligations),
    )


def _subject_gate(compiled: CompiledPolicy, purpose: str, consent_to: str | None) -> _Gate:
    """What a subject's choices must say for this use: opt-in granted, no opt-out (of the
    purpose, its channel, or a consent-bound recipient), no "stop everything"."""
    spec = compiled.policy.purposes[purpose]
    basis_ref = f"purposes.{purpose}.basis"
    purpose_keys = frozenset(purpose_choice(a) for a in ancestors(purpose))
    block: list[tuple[frozenset[str], Reason]] = []
    needs: list[tuple[frozenset[str], Reason]] = []
    reasons: list[Reason] = []
    if spec.basis is not Basis.legal_obligation:
        # An objection to a purpose is honoured whatever its basis (a Global Privacy Control
        # signal, say, withdraws sharing the policy runs on collection alone); only what
        # the law requires goes on regardless.
        withdrawn = Reason("consent_withdrawn", f"the person opted out of '{purpose}'", basis_ref)
        block.append((purpose_keys, withdrawn))
    if spec.basis in (Basis.opt_in, Basis.opt_out) and spec.channel is not None:
        block.append(
            (
                frozenset({channel_choice(spec.channel)}),
                Reason(
                    "channel_opted_out",
                    f"the person opted out of {spec.channel} messages",
                    f"purposes.{purpose}.channel",
                ),
            )
        )
    if spec.basis is Basis.opt_in:
        missing = f"'{purpose}' needs the person's opt-in, and there is none"
        needs.append((purpose_keys, Reason("no_consent", missing, basis_ref)))
        reasons.append(Reason("consent_given", f"the person opted in to '{purpose}'", basis_ref))
    else:
        reasons.append(Reason("basis_met", f"'{purpose}' has basis {spec.basis}", basis_ref))
    if consent_to is not None:
        keys = frozenset({recipient_choice(consent_to)})
        ref = f"recipients.{consent_to}.condition"
        block.append(
            (
                keys,
                Reason(
                    "consent_withdrawn", f"the person withdrew permission for '{consent_to}'", ref
                ),
            )
        )
        needs.append(
            (
                keys,
                Reason(
                    "no_consent", f"sharing with '{consent_to}' needs the person's permission", ref
                ),
            )
        )
        reasons.append(Reason("consent_given", f"the person allowed '{consent_to}'", ref))
    stop_all = None
    if spec.channel is not None and spec.basis is not Basis.legal_obligation:
        stop_all = Reason(
            "stop_all", "the person asked to receive no correspondence at all", basis_ref
        )
    return _Gate(tuple(needs), tuple(block), stop_all, tuple(reasons))


# --- the decision function -------------------------------------------------------------------


def decide(policy: CompiledPolicy, request: Request) -> Decision:
    """Decide one request. Pure: same policy and request, same answer; no I/O, no clock."""
    plan = policy._plans.get((request.actor, request.purpose)) or policy.plan(
        request.actor, request.purpose
    )
    if plan.denied is not None:
        decision = plan.denied
    else:
        decision = _decide_with(plan, request, request.choices)
    if request.collected_under is None or request.collected_under == policy.version:
        return decision
    return _under_collection_version(policy, request, decision)


def decide_many(
    policy: CompiledPolicy, request: Request, choices: Sequence[Choices]
) -> list[Decision]:
    """The same request for many subjects, one :class:`Choices` each, in order.

    The plan and the category verdict are worked out once; each subject costs one test of
    its choices against the plan's precomputed sets.
    """
    if request.collected_under not in (None, policy.version):
        return [decide(policy, request._replace(choices=c)) for c in choices]
    plan = policy.plan(request.actor, request.purpose)
    if plan.denied is not None:
        return [plan.denied] * len(choices)
    assert plan.gate is not None
    if plan.elective:
        # Each person's own `show:` choices decide what this recipient sees, which the
        # gate outcome shared below does not capture.
        return [_decide_with(plan, request, c) for c in choices]
    check = plan.gate.check
    outcomes: dict[Reason | None, Decision] = {}
    results: list[Decision] = []
    append = results.append
    for subject_choices in choices:
        outcome = check(subject_choices)
        decision = outcomes.get(outcome)
        if decision is None:
            decision = outcomes[outcome] = _decide_with(plan, request, subject_choices)
        append(decision)
    return results


def _decide_with(plan: Plan, request: Request, choices: Choices) -> Decision:
    assert plan.gate is not None
    released, withheld, category_reasons, asked = plan.categories(
        request.categories, request.points
    )
    against = plan.gate.check(choices)
    if against is None and (plan.legal_ref_required or plan.min_group_size is not None):
        against = _request_condition(plan, request)
    show_missing = (
        _hidden_fields(plan, released, choices) if against is None and plan.elective else ()
    )
    cache_key = (asked, request.points, against, show_missing)
    decision = plan._decisions.get(cache_key)
    if decision is not None:
        return decision
    if show_missing:
        released = released - {c for c, _ in show_missing}
        withheld = withheld + show_missing
    assert plan.grant_reason is not None
    if against is not None:
        decision = Decision(False, frozenset(), withheld, (plan.grant_reason, against))
    else:
        allowed = not withheld and bool(released)
        reasons = (plan.grant_reason, *category_reasons, *plan.gate.consent_reasons)
        if not released:
            reasons += (
                Reason(
                    "nothing_released",
                    "no requested category may be released",
                    f"{plan.actor.kind}s.{plan.actor.name}",
                ),
            )
        decision = Decision(
            allowed, released, withheld, reasons, plan.obligations if released else ()
        )
    return plan._decisions.put(cache_key, decision)


def _request_condition(plan: Plan, request: Request) -> Reason | None:
    name = plan.actor.name
    if plan.legal_ref_required and not (request.legal_ref and request.legal_ref.strip()):
        return Reason(
            "legal_reference_missing",
            f"disclosure to '{name}' needs a legal reference (a court order, a statute...)",
            f"recipients.{name}.condition",
        )
    if plan.min_group_size is not None and (request.group_size or 0) < plan.min_group_size:
        return Reason(
            "group_too_small",
            f"{plan.actor} receives aggregates of at least {plan.min_group_size} people only",
            f"{plan.actor.kind}s.{name}.min_group_size",
        )
    return None


def _hidden_fields(
    plan: Plan, released: frozenset[str], choices: Choices
) -> tuple[tuple[str, Reason], ...]:
    """Categories a subject-election recipient gets only if the person chose to show them."""
    return tuple(
        (
            category,
            Reason(
                "not_shown",
                f"the person has not chosen to show '{category}'",
                f"recipients.{plan.actor.name}.condition",
            ),
        )
        for category in sorted(released)
        if visibility_choice(category) not in choices.granted
    )


def _under_collection_version(
    policy: CompiledPolicy, request: Request, current: Decision
) -> Decision:
    """Data keeps the limits of the version it was collected under until it follows a later
    one: by the person's express consent, or (where the policy says so) once that version's
    notice window closed without their opting out. Limits the person set stay either way."""
    version = request.collected_under
    assert version is not None
    if version not in policy.history:
        return _deny(
            Reason(
                "unknown_version",
                f"the data was collected under policy version '{version}', which is not on record",
                "version",
            )
        )
    followed = policy.followed(version, request.choices)
    decision = current
    if followed.version != policy.version:
        decision = _older_limits(policy, request, current, followed)
    if followed.base != followed.version:
        decision = _persons_limits(policy, request, decision, followed.base)
    return decision


def _older_limits(
    policy: CompiledPolicy, request: Request, current: Decision, followed: Followed
) -> Decision:
    """``current`` narrowed to what the version the data still follows allows."""
    earlier = policy.version_policy(followed.version)
    try:
        then = decide(earlier, request._replace(collected_under=None))
    except InputError as exc:
        # The use names something (a purpose, an actor, a category) that version did not have.
        missing = ", ".join(f"{kind} '{name}'" for kind, name in exc.fields.items())
        return _version_limit(policy, request, followed, current, f"it had no {missing}")
    if then.allowed and current.allowed:
        return current
    denial = then.denial
    why = denial.message if denial is not None else "it released none of it"
    return _version_limit(policy, request, followed, current, why, then.released)


# What a person's own choices refuse: these limits hold until the person consents expressly.
_PERSONS_LIMITS = frozenset({"consent_withdrawn", "no_consent", "channel_opted_out", "stop_all"})


def _persons_limits(
    policy: CompiledPolicy, request: Request, decision: Decision, base: str
) -> Decision:
    """Withhold everything when the person's choices refused this use under ``base`` (the
    version they collected or consented under): a later version never loosens a limit the
    person set, whatever it says, until they consent to it."""
    then = policy.version_policy(base)
    if request.purpose not in then.policy.purposes:
        return decision
    recipient = then.policy.recipients.get(request.actor.name)
    consent_to = (
        request.actor.name
        if request.actor.kind == "recipient"
        and recipient is not None
        and recipient.condition is Condition.consent
        else None
    )
    refused = _subject_gate(then, request.purpose, consent_to).check(request.choices)
    if refused is None or refused.code not in _PERSONS_LIMITS:
        return decision
    limit = Reason(
        "limit_set_by_person",
        f"under policy version '{base}' the person's own choice refused this "
        f"({refused.message}); a later version changes that only with their express consent "
        f"(choice 'policy:{policy.version}')",
        refused.ref,
    )
    withheld = (*decision.withheld, *((c, limit) for c in sorted(decision.released)))
    reasons = (*decision.reasons, limit) if decision.allowed else decision.reasons
    return Decision(False, frozenset(), withheld, reasons)


def _version_limit(
    policy: CompiledPolicy,
    request: Request,
    followed: Followed,
    current: Decision,
    why: str,
    then_released: frozenset[str] = frozenset(),
) -> Decision:
    """``current`` narrowed to what the version the data still follows released. Each
    category only that version refused is withheld with the reason, which also says what lifts
    it: the person's express consent to the active version, or the close of its notice window.
    Where the active version refuses on its own, its reasons stay the ones that explain it."""
    active, version = policy.version, followed.version
    collected = request.collected_under
    was = f"collected under policy version '{version}'"
    if collected != version:
        was = f"collected under policy version '{collected}' and follows version '{version}'"
    if followed.opted_out is not None:
        limit = Reason(
            "opted_out_of_change",
            f"the data was {was}, which did not allow this ({why}); the person opted out of "
            f"the changes of version '{followed.opted_out}' (choice "
            f"'policy:{followed.opted_out}'), so their data keeps the earlier limits",
            "changes.material_change_needs_consent",
        )
    else:
        lifted = f"once the person consents to it (choice 'policy:{active}')"
        if followed.waiting is not None:
            end = policy.windows.end_of(followed.waiting)
            when = f" ({end:%Y-%m-%d %H:%M} UTC)" if end is not None else ""
            lifted += (
                f", or, unless they opt out, when the notice period of version "
                f"'{followed.waiting}' ends{when}"
            )
        limit = Reason(
            "collected_under_earlier_version",
            f"the data was {was}, which did not allow this ({why}); it follows version "
            f"'{active}' {lifted}",
            "changes.material_change_needs_consent",
        )
    released = current.released & then_released
    withheld = (*current.withheld, *((c, limit) for c in sorted(current.released - released)))
    reasons = (*current.reasons, limit) if current.allowed else current.reasons
    return Decision(False, released, withheld, reasons)
