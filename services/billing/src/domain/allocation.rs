//! Allocation: which payment's money pays which charge.
//!
//! Every charge is due an amount (its price, less any discount, plus or minus its corrections)
//! and is paid by allocations of payments' money to it; what is due and not yet allocated is
//! outstanding. A payment's money that no allocation holds is the patient's advance, kept for
//! later charges. Allocations are append-only: a positive one pays a charge, a negative one
//! releases money back to its payment (a refund taking the money back, a correction lowering a
//! charge below what was paid on it). The ledger's sum (the balance) is always the outstanding
//! total less the advance: allocating moves money between the two without changing the balance.
//!
//! Amounts here are minor units of the clinic's one currency.

use chrono::NaiveDate;
use clinic_common::ids::{ChargeId, PaymentId};
use clinic_common::validation::FieldViolations;

/// Where a charge stands: what it is due and how much payments cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeStanding {
    pub charge_id: ChargeId,
    pub service_date: NaiveDate,
    /// The charge's ledger sequence: the order charges of one day were posted in.
    pub sequence: i64,
    /// Net price plus corrections; never negative.
    pub due: i64,
    /// Net allocations from payments; never more than `due`.
    pub allocated: i64,
}

impl ChargeStanding {
    pub fn outstanding(&self) -> i64 {
        self.due - self.allocated
    }
}

/// A payment's money not yet allocated: part of the patient's advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funds {
    pub payment_id: PaymentId,
    pub service_date: NaiveDate,
    pub sequence: i64,
    pub available: i64,
}

/// How a payment's money is spread over the patient's open charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationMode {
    /// The chosen charges first, then every other open charge, oldest service day first; what
    /// is left becomes an advance.
    OldestFirst,
    /// Only the chosen charges; the rest becomes an advance.
    AsChosen,
}

/// A charge the payer chose to pay, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenAllocation {
    pub charge_id: ChargeId,
    pub amount: i64,
}

/// One piece of money moving onto (positive) or off (negative) a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationLine {
    pub charge_id: ChargeId,
    pub payment_id: PaymentId,
    pub amount: i64,
}

/// What a payment pays: an amount per charge, in the order they were paid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spread {
    pub per_charge: Vec<(ChargeId, i64)>,
    /// What no charge took: it becomes (or stays) advance.
    pub left_over: i64,
}

/// Spreads `amount` over `charges` (the patient's, in oldest-first order): the `chosen` ones
/// first, each at most its outstanding amount, then, in `OldestFirst` mode, every other open
/// charge in order. Chosen allocations that name a charge that is not open, ask for more than it
/// owes, or add up to more than `amount` are refused under `allocations[i]`.
pub fn spread(
    amount: i64,
    charges: &[ChargeStanding],
    chosen: &[ChosenAllocation],
    mode: AllocationMode,
) -> Result<Spread, FieldViolations> {
    let mut violations = FieldViolations::new();
    let mut left = amount;
    let mut taken: Vec<(ChargeId, i64)> = Vec::new();
    for (index, choice) in chosen.iter().enumerate() {
        let field = format!("allocations[{index}]");
        if taken
            .iter()
            .any(|(charge_id, _)| *charge_id == choice.charge_id)
        {
            violations.add(format!("{field}.charge_id"), "is named twice");
            continue;
        }
        let Some(charge) = charges
            .iter()
            .find(|charge| charge.charge_id == choice.charge_id && charge.outstanding() > 0)
        else {
            violations.add(
                format!("{field}.charge_id"),
                "is not an open charge of the patient",
            );
            continue;
        };
        if choice.amount > charge.outstanding() {
            violations.add(
                format!("{field}.amount"),
                format!(
                    "is more than the {} minor units outstanding on the charge",
                    charge.outstanding()
                ),
            );
            continue;
        }
        taken.push((choice.charge_id, choice.amount));
        left -= choice.amount;
    }
    if left < 0 {
        violations.add("allocations", "add up to more than the payment");
    }
    violations.into_result()?;
    if mode == AllocationMode::OldestFirst {
        for charge in charges {
            if left == 0 {
                break;
            }
            if taken
                .iter()
                .any(|(charge_id, _)| *charge_id == charge.charge_id)
            {
                continue;
            }
            let share = charge.outstanding().min(left);
            if share > 0 {
                taken.push((charge.charge_id, share));
                left -= share;
            }
        }
    }
    Ok(Spread {
        per_charge: taken,
        left_over: left,
    })
}

/// Pairs what each charge is to receive with where the money comes from, both in order: each
/// source `(payment, amount)` is used up before the next. The sources must hold at least what
/// the charges take.
pub fn pair(per_charge: &[(ChargeId, i64)], sources: &[(PaymentId, i64)]) -> Vec<AllocationLine> {
    let mut lines = Vec::new();
    let mut sources = sources.iter().copied().filter(|(_, amount)| *amount > 0);
    let mut current = sources.next();
    for (charge_id, mut wanted) in per_charge.iter().copied() {
        while wanted > 0 {
            let Some((payment_id, available)) = current.as_mut() else {
                return lines;
            };
            let share = wanted.min(*available);
            lines.push(AllocationLine {
                charge_id,
                payment_id: *payment_id,
                amount: share,
            });
            wanted -= share;
            *available -= share;
            if *available == 0 {
                current = sources.next();
            }
        }
    }
    lines
}

/// Money a payment holds on a charge: the net of their allocations, and when it was last added
/// to, so releases can undo the newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub charge_id: ChargeId,
    pub payment_id: PaymentId,
    pub amount: i64,
    /// The sequence of the newest allocation between the two.
    pub newest: i64,
}

/// Releases `amount` from `held`, the newest allocation first, as negative lines. Releases no
/// more than is held.
pub fn release(amount: i64, held: &[Held]) -> Vec<AllocationLine> {
    let mut held: Vec<&Held> = held.iter().filter(|held| held.amount > 0).collect();
    held.sort_by_key(|held| std::cmp::Reverse(held.newest));
    let mut left = amount;
    let mut lines = Vec::new();
    for held in held {
        if left == 0 {
            break;
        }
        let share = held.amount.min(left);
        lines.push(AllocationLine {
            charge_id: held.charge_id,
            payment_id: held.payment_id,
            amount: -share,
        });
        left -= share;
    }
    lines
}

/// Takes `amount` of the patient's advance from `funds`, oldest payment first, as
/// `(payment, amount)` sources for [`pair`]. `None` when the advance is not enough.
pub fn draw_advance(amount: i64, funds: &[Funds]) -> Option<Vec<(PaymentId, i64)>> {
    let mut left = amount;
    let mut drawn = Vec::new();
    for funds in funds {
        if left == 0 {
            break;
        }
        let share = funds.available.min(left);
        if share > 0 {
            drawn.push((funds.payment_id, share));
            left -= share;
        }
    }
    (left == 0).then_some(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).expect("a valid day")
    }

    fn standing(
        charge_id: ChargeId,
        day_of_month: u32,
        due: i64,
        allocated: i64,
    ) -> ChargeStanding {
        ChargeStanding {
            charge_id,
            service_date: day(day_of_month),
            sequence: i64::from(day_of_month),
            due,
            allocated,
        }
    }

    #[test]
    fn oldest_charges_are_paid_first_and_the_rest_becomes_advance() {
        let (old, new) = (ChargeId::new(), ChargeId::new());
        let charges = [
            standing(old, 1, 50_000, 20_000),
            standing(new, 5, 40_000, 0),
        ];

        let spread = spread(100_000, &charges, &[], AllocationMode::OldestFirst).expect("valid");

        assert_eq!(spread.per_charge, vec![(old, 30_000), (new, 40_000)]);
        assert_eq!(spread.left_over, 30_000);
    }

    #[test]
    fn chosen_charges_are_paid_first_and_as_chosen_pays_nothing_else() {
        let (old, new) = (ChargeId::new(), ChargeId::new());
        let charges = [standing(old, 1, 50_000, 0), standing(new, 5, 40_000, 0)];
        let chosen = [ChosenAllocation {
            charge_id: new,
            amount: 40_000,
        }];

        let oldest = spread(60_000, &charges, &chosen, AllocationMode::OldestFirst).expect("ok");
        let only = spread(60_000, &charges, &chosen, AllocationMode::AsChosen).expect("ok");

        assert_eq!(oldest.per_charge, vec![(new, 40_000), (old, 20_000)]);
        assert_eq!(oldest.left_over, 0);
        assert_eq!(only.per_charge, vec![(new, 40_000)]);
        assert_eq!(only.left_over, 20_000);
    }

    #[test]
    fn bad_choices_are_named_by_their_index() {
        let (paid, open) = (ChargeId::new(), ChargeId::new());
        let charges = [
            standing(paid, 1, 50_000, 50_000),
            standing(open, 5, 40_000, 0),
        ];
        let chosen = [
            ChosenAllocation {
                charge_id: paid,
                amount: 1,
            },
            ChosenAllocation {
                charge_id: open,
                amount: 40_001,
            },
            ChosenAllocation {
                charge_id: ChargeId::new(),
                amount: 1,
            },
        ];

        let refused =
            spread(100_000, &charges, &chosen, AllocationMode::OldestFirst).expect_err("refused");

        assert_eq!(
            refused.to_string(),
            "allocations[0].charge_id: is not an open charge of the patient; \
             allocations[1].amount: is more than the 40000 minor units outstanding on the charge; \
             allocations[2].charge_id: is not an open charge of the patient"
        );
        let too_much = spread(
            30_000,
            &charges,
            &[ChosenAllocation {
                charge_id: open,
                amount: 40_000,
            }],
            AllocationMode::AsChosen,
        )
        .expect_err("more than paid");
        assert_eq!(
            too_much.to_string(),
            "allocations: add up to more than the payment"
        );
    }

    #[test]
    fn pairing_uses_each_source_up_before_the_next() {
        let (a, b) = (ChargeId::new(), ChargeId::new());
        let (old, new) = (PaymentId::new(), PaymentId::new());

        let lines = pair(&[(a, 30_000), (b, 50_000)], &[(old, 40_000), (new, 60_000)]);

        assert_eq!(
            lines,
            vec![
                AllocationLine {
                    charge_id: a,
                    payment_id: old,
                    amount: 30_000
                },
                AllocationLine {
                    charge_id: b,
                    payment_id: old,
                    amount: 10_000
                },
                AllocationLine {
                    charge_id: b,
                    payment_id: new,
                    amount: 40_000
                },
            ]
        );
    }

    #[test]
    fn releases_undo_the_newest_allocations_first() {
        let charge = ChargeId::new();
        let (old, new) = (PaymentId::new(), PaymentId::new());
        let held = [
            Held {
                charge_id: charge,
                payment_id: old,
                amount: 30_000,
                newest: 1,
            },
            Held {
                charge_id: charge,
                payment_id: new,
                amount: 20_000,
                newest: 7,
            },
        ];

        let lines = release(25_000, &held);

        assert_eq!(
            lines,
            vec![
                AllocationLine {
                    charge_id: charge,
                    payment_id: new,
                    amount: -20_000
                },
                AllocationLine {
                    charge_id: charge,
                    payment_id: old,
                    amount: -5_000
                },
            ]
        );
    }

    #[test]
    fn the_advance_is_drawn_oldest_payment_first_and_never_overdrawn() {
        let (old, new) = (PaymentId::new(), PaymentId::new());
        let funds = [
            Funds {
                payment_id: old,
                service_date: day(1),
                sequence: 1,
                available: 10_000,
            },
            Funds {
                payment_id: new,
                service_date: day(2),
                sequence: 2,
                available: 5_000,
            },
        ];

        assert_eq!(
            draw_advance(12_000, &funds),
            Some(vec![(old, 10_000), (new, 2_000)])
        );
        assert_eq!(draw_advance(15_001, &funds), None);
    }
}
