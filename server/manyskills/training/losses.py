"""The training losses as plain tensor functions (the trainer computes the model's outputs and hands
them here), so each can be checked on hand-made tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F

RANKING_WEIGHT = 0.5  # defect: weight of the buggy-above-clean ranking term
RANKING_MARGIN = 1.0


def defect_targets(items, n_lines: int) -> list[int]:
    """The class of each example: its bug line, or `n_lines` (the "no bug" slot) for a clean one."""
    return [i.bug_line if i.label else n_lines for i in items]


def buggy_clean_rows(items) -> list[tuple[int, int]]:
    """(row of the buggy, row of the clean) version for every pair with both sides in the batch."""
    by_pair: dict[str, dict[int, int]] = {}
    for r, i in enumerate(items):
        by_pair.setdefault(i.pair_id, {})[i.label] = r
    return [(p[1], p[0]) for p in by_pair.values() if 0 in p and 1 in p]


def defect_loss(line_logits: torch.Tensor, slot_logit: torch.Tensor, targets: list[int],
                pairs: list[tuple[int, int]]) -> torch.Tensor:
    """Cross-entropy over the lines plus the "no bug" slot; plus a ranking term: a buggy function must
    score (logsumexp of its line logits against the slot) above its own clean version by a margin."""
    logits = torch.cat([line_logits, slot_logit[:, None]], dim=1)
    loss = F.cross_entropy(logits, torch.tensor(targets, device=logits.device))
    score = torch.logsumexp(line_logits, -1) - slot_logit
    if pairs:
        buggy = score[[b for b, _ in pairs]]
        clean = score[[c for _, c in pairs]]
        loss = loss + RANKING_WEIGHT * F.softplus(clean - buggy + RANKING_MARGIN).mean()
    return loss


def flaky_loss(flaky_logit: torch.Tensor, labels: list[int]) -> torch.Tensor:
    target = torch.tensor([float(label) for label in labels], device=flaky_logit.device)
    return F.binary_cross_entropy_with_logits(flaky_logit, target)


def contrastive(left: torch.Tensor, right: torch.Tensor, tau: float = 0.05) -> torch.Tensor:
    """Symmetric InfoNCE: row i of `left` belongs with row i of `right`, every other row is a negative."""
    sims = left @ right.T / tau
    target = torch.arange(sims.size(0), device=sims.device)
    return (F.cross_entropy(sims, target) + F.cross_entropy(sims.T, target)) / 2


def review_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the review text only (labels -100 elsewhere)."""
    return F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1))
