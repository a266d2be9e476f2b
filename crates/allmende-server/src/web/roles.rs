use allmende_domain::{OrganizationKind, Role};

use super::context::{Ctx, Lang};

pub fn role_label(ctx: &Ctx, r: Role) -> &'static str {
    match ctx.lang {
        Lang::De => r.label_de(),
        Lang::En => r.label_en(),
    }
}

pub fn kind_label(ctx: &Ctx, k: OrganizationKind) -> &'static str {
    match ctx.lang {
        Lang::De => k.label_de(),
        Lang::En => k.label_en(),
    }
}
