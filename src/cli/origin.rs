//! Where each platform setting that can decide an answer came from (a flag, the offering's
//! default, or the built-in one), for the warnings. Mirrors the precedence of
//! [`super::platform_config_for`].

use super::PlatformArgs;
use crate::offering::{ColdStart, Offering};
use crate::warnings::{Origin, Origins};

pub fn origins(a: &PlatformArgs, offering: Option<&Offering>) -> Origins {
    let from = |given: bool, offering_has: bool| {
        if given {
            Origin::Flag
        } else {
            match offering {
                Some(o) if offering_has => Origin::Offering(o.meta.name.clone()),
                _ => Origin::BuiltIn,
            }
        }
    };
    let b = offering.map(|o| &o.behaviour);
    Origins {
        account_concurrency: from(
            a.account_concurrency.is_some(),
            b.is_some_and(|b| b.account_concurrency.is_some()),
        ),
        max_concurrency: from(
            a.max_concurrency.is_some(),
            b.is_some_and(|b| b.max_instances.is_some()),
        ),
        scaling_rate: from(
            a.scaling_rate.is_some(),
            b.is_some_and(|b| b.scaling.is_some()),
        ),
        init_is_lambda_table: a.init_ms.is_none()
            && b.is_none_or(|b| matches!(b.cold_start, ColdStart::LambdaTable { .. })),
    }
}
