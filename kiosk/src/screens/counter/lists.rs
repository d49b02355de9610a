//! What the counter chooses from: billing's price list (for charges) and scheduling's
//! providers and kinds of visit (for bookings). A list that failed to load is not asked for
//! again every frame while its service is down: opening an account asks again.

use clinic_proto::billing::v1 as billing;

use super::act::Action;
use super::booking::BookingLists;
use crate::backend::Pending;

#[derive(Default)]
pub(super) struct Lists {
    pub(super) prices: Vec<billing::PriceListItem>,
    pub(super) loading_prices: Option<Pending<Vec<billing::PriceListItem>>>,
    prices_failed: bool,
    pub(super) booking: Option<BookingLists>,
    pub(super) loading_booking: Option<Pending<BookingLists>>,
    booking_failed: bool,
}

impl Lists {
    /// Asks for the lists not there yet (the booking lists only for an open account), and
    /// takes them once loaded.
    pub(super) fn poll(&mut self, account_open: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.prices.is_empty() && self.loading_prices.is_none() && !self.prices_failed {
            actions.push(Action::LoadPrices);
        }
        if let Some(result) = self.loading_prices.as_mut().and_then(Pending::take) {
            self.loading_prices = None;
            match result {
                Ok(items) => self.prices = items,
                Err(error) => {
                    self.prices_failed = true;
                    tracing::warn!(?error, "could not load the price list");
                }
            }
        }
        if account_open
            && self.booking.is_none()
            && self.loading_booking.is_none()
            && !self.booking_failed
        {
            actions.push(Action::LoadBookingLists);
        }
        if let Some(result) = self.loading_booking.as_mut().and_then(Pending::take) {
            self.loading_booking = None;
            match result {
                Ok(lists) => self.booking = Some(lists),
                Err(error) => {
                    self.booking_failed = true;
                    tracing::warn!(?error, "could not load the providers and kinds of visit");
                }
            }
        }
        actions
    }

    /// Lists that failed to load are asked for again (an account has opened).
    pub(super) fn retry(&mut self) {
        self.prices_failed = false;
        self.booking_failed = false;
    }
}
