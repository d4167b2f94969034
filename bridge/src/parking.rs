//! Suspended executions waiting for resumeHandler, by suspension id, each with a deadline. Ids
//! that were resumed or expired are remembered (the newest 10,000) so a failed resume can say why.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::error::{ApiError, ApiErrorCode};

const RETIRED_IDS: usize = 10_000;

pub struct Parking<T> {
    live: HashMap<String, (T, Instant)>,
    retired: HashMap<String, Retired>,
    retired_order: VecDeque<String>,
}

#[derive(Debug, Clone, Copy)]
enum Retired {
    Resumed,
    Expired,
    Cancelled,
}

impl<T> Default for Parking<T> {
    fn default() -> Self {
        Parking {
            live: HashMap::new(),
            retired: HashMap::new(),
            retired_order: VecDeque::new(),
        }
    }
}

impl<T> Parking<T> {
    pub fn park(&mut self, id: String, value: T, deadline: Instant) {
        self.live.insert(id, (value, deadline));
    }

    /// Takes a parked value to resume it; SUSPENSION_NOT_FOUND says whether the id is unknown,
    /// expired or already resumed.
    pub fn take(&mut self, id: &str) -> Result<T, ApiError> {
        if let Some((value, _)) = self.live.remove(id) {
            self.retire(id.to_string(), Retired::Resumed);
            return Ok(value);
        }
        let why = match self.retired.get(id) {
            Some(Retired::Resumed) => "has already been resumed",
            Some(Retired::Cancelled) => "was cancelled",
            Some(Retired::Expired) => {
                "expired: the execution passed its deadline (executionDeadlineMs) while parked"
            }
            None => "is unknown",
        };
        Err(ApiError::new(
            ApiErrorCode::SuspensionNotFound,
            format!("suspension {id:?} {why}"),
        ))
    }

    /// Drops a parked value its caller gave up on; false when it was not parked.
    pub fn cancel(&mut self, id: &str) -> bool {
        match self.live.remove(id) {
            Some(_) => {
                self.retire(id.to_string(), Retired::Cancelled);
                true
            }
            None => false,
        }
    }

    /// Removes everything whose deadline has passed.
    pub fn take_expired(&mut self, now: Instant) -> Vec<T> {
        let ids: Vec<String> = self
            .live
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        ids.into_iter()
            .filter_map(|id| {
                let (value, _) = self.live.remove(&id)?;
                self.retire(id, Retired::Expired);
                Some(value)
            })
            .collect()
    }

    pub fn drain(&mut self) -> Vec<T> {
        self.live.drain().map(|(_, (value, _))| value).collect()
    }

    pub fn count(&self) -> usize {
        self.live.len()
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.live.values().map(|(value, _)| value)
    }

    fn retire(&mut self, id: String, why: Retired) {
        if self.retired_order.len() == RETIRED_IDS
            && let Some(oldest) = self.retired_order.pop_front()
        {
            self.retired.remove(&oldest);
        }
        self.retired.insert(id.clone(), why);
        self.retired_order.push_back(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_parked_value_is_taken_once() {
        let mut parking = Parking::default();
        parking.park("a".into(), 1, Instant::now() + Duration::from_secs(60));
        assert_eq!(parking.take("a").unwrap(), 1);
        let again = parking.take("a").unwrap_err();
        assert_eq!(again.code, ApiErrorCode::SuspensionNotFound);
        assert!(
            again.message.contains("already been resumed"),
            "{}",
            again.message
        );
        assert!(parking.take("b").unwrap_err().message.contains("unknown"));
    }

    #[test]
    fn expired_values_are_removed_and_remembered_as_expired() {
        let now = Instant::now();
        let mut parking = Parking::default();
        parking.park("old".into(), 1, now - Duration::from_millis(1));
        parking.park("new".into(), 2, now + Duration::from_secs(60));
        assert_eq!(parking.take_expired(now), vec![1]);
        assert_eq!(parking.count(), 1);
        assert!(parking.take("old").unwrap_err().message.contains("expired"));
    }

    #[test]
    fn a_cancelled_value_is_gone_and_says_so() {
        let mut parking = Parking::default();
        parking.park("a".into(), 1, Instant::now() + Duration::from_secs(60));
        assert!(parking.cancel("a"));
        assert!(!parking.cancel("a"));
        assert!(parking.take("a").unwrap_err().message.contains("cancelled"));
    }

    #[test]
    fn only_the_newest_retired_ids_are_remembered() {
        let mut parking = Parking::default();
        for i in 0..=RETIRED_IDS {
            parking.park(i.to_string(), i, Instant::now());
            parking.take(&i.to_string()).unwrap();
        }
        assert!(parking.take("0").unwrap_err().message.contains("unknown"));
        assert!(parking.take("1").unwrap_err().message.contains("already"));
    }
}
