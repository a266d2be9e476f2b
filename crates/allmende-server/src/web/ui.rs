//! The KERN UX-Standard's components as small maud helpers, so pages use
//! them the same way everywhere: badges, alerts, cards. (Buttons and form
//! inputs carry KERN's classes directly where they are written.)

use maud::{html, Markup, Render};

/// How a badge or an alert is meant: KERN's feedback colours, plus a
/// neutral tone for plain facts (a status, a kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

impl Tone {
    fn modifier(self) -> &'static str {
        match self {
            Tone::Neutral => "neutral",
            Tone::Info => "info",
            Tone::Success => "success",
            Tone::Warning => "warning",
            Tone::Danger => "danger",
        }
    }
}

/// A KERN badge: a short fact, read as plain text.
pub fn badge(tone: Tone, label: impl Render) -> Markup {
    html! {
        span class={ "kern-badge kern-badge--" (tone.modifier()) } { span.kern-label { (label) } }
    }
}

/// Badges as a list, so screen readers announce each fact on its own
/// ("In Betrieb", "Partner gesucht", …) instead of one run-on word.
/// `items` are list items (`li`), usually from [`badge_item`].
pub fn badge_list(items: Markup) -> Markup {
    html! { ul.badges { (items) } }
}

pub fn badge_item(tone: Tone, label: impl Render) -> Markup {
    html! { li { (badge(tone, label)) } }
}

/// A KERN alert. `role` is `status` for messages that confirm what just
/// happened (read out politely), `alert` for errors.
pub fn alert(tone: Tone, role: &str, title: &str, body: Option<Markup>) -> Markup {
    let icon = match tone {
        Tone::Success => "success",
        Tone::Warning => "warning",
        Tone::Danger => "danger",
        Tone::Neutral | Tone::Info => "info",
    };
    let class = match tone {
        Tone::Neutral => "kern-alert kern-alert--info".to_owned(),
        other => format!("kern-alert kern-alert--{}", other.modifier()),
    };
    html! {
        div class=(class) role=(role) {
            div.kern-alert__header {
                span class={ "kern-icon kern-icon--" (icon) } aria-hidden="true" {}
                p.kern-title { (title) }
            }
            @if let Some(body) = body { div.kern-alert__body { (body) } }
        }
    }
}
