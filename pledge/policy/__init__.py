"""The policy core: the policy file, its checks, and the decision function. Pure: no I/O beyond
reading the file you name, no clock, nothing from the store or the edges."""

from pledge.policy.compiled import CompiledPolicy, compile_policy, decide, decide_many
from pledge.policy.decision import (
    NO_CHOICES,
    Actor,
    Choices,
    Decision,
    Obligation,
    Reason,
    Request,
    channel_choice,
    cookie_choice,
    purpose_choice,
    recipient_choice,
    version_choice,
    visibility_choice,
)
from pledge.policy.load import load_policy, load_policy_text
from pledge.policy.model import Policy

__all__ = [
    "NO_CHOICES",
    "Actor",
    "Choices",
    "CompiledPolicy",
    "Decision",
    "Obligation",
    "Policy",
    "Reason",
    "Request",
    "channel_choice",
    "compile_policy",
    "cookie_choice",
    "decide",
    "decide_many",
    "load_policy",
    "load_policy_text",
    "purpose_choice",
    "recipient_choice",
    "version_choice",
    "visibility_choice",
]
