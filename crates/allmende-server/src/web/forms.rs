//! Accessible form building blocks: every input has a label, hints and errors
//! are tied to it with aria-describedby, and a failed submission starts with
//! an error summary linking to each field.

use std::collections::HashMap;

use allmende_domain::ValidationErrors;
use maud::{html, Markup};

use super::context::Ctx;

/// Submitted or prefilled form values by field name.
pub type FormValues = HashMap<String, String>;

/// A validation error placed on a form field.
#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    pub by_field: Vec<(String, String)>,
}

impl FormErrors {
    /// Places every error on the form field that holds its value: a domain
    /// path such as `contact.email` or `leika_keys[2]` belongs to the field
    /// `contact_email` or `leika_keys`. The message names the field by its
    /// label, and an entry of a list by its number ("Eintrag 3"), never by
    /// the path.
    pub fn from_validation(
        ctx: &Ctx,
        errors: &ValidationErrors,
        label: impl Fn(&str) -> String,
    ) -> Self {
        let by_field = errors
            .iter()
            .map(|e| {
                let field = e
                    .field
                    .split('[')
                    .next()
                    .unwrap_or(&e.field)
                    .replace('.', "_");
                let entry = list_entry(&e.field)
                    .map(|n| format!(" ({} {n})", ctx.t("Eintrag", "entry")))
                    .unwrap_or_default();
                let message = match ctx.lang {
                    super::context::Lang::De => e.problem.message_de(),
                    super::context::Lang::En => e.problem.message_en(),
                };
                let text = format!("{}{entry} {message}", label(&field));
                (field, text)
            })
            .collect();
        Self { by_field }
    }

    pub fn single(field: &str, message: String) -> Self {
        Self {
            by_field: vec![(field.to_owned(), message)],
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.by_field
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty()
    }
}

/// The number (from 1) of the list entry a domain path points into:
/// `links[0].url` is entry 1.
fn list_entry(path: &str) -> Option<usize> {
    let (_, rest) = path.split_once('[')?;
    let (index, _) = rest.split_once(']')?;
    index.parse::<usize>().ok().map(|i| i + 1)
}

/// The list of what to correct, above a form that failed. It takes focus
/// when the page loads (`autofocus`, no script needed), so keyboard and
/// screen reader users start there; each entry links to its field.
pub fn error_summary(ctx: &Ctx, errors: &FormErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary.kern-alert.kern-alert--danger role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title" {
                div.kern-alert__header {
                    span.kern-icon.kern-icon--danger aria-hidden="true" {}
                    h2.kern-title #error-summary-title { (ctx.t("Bitte korrigieren Sie Ihre Eingabe", "Please correct your input")) }
                }
                div.kern-alert__body {
                    ul { @for (field, msg) in &errors.by_field { li { a href={ "#" (field) } { (msg) } } } }
                }
            }
        }
    }
}

pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name=(crate::auth::csrf::FIELD) value=(ctx.csrf.0); }
}

/// Shared input attributes for one field.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub hint: Option<&'a str>,
    pub required: bool,
    /// The input's purpose (WCAG 1.3.5), where it is one of HTML's
    /// `autocomplete` tokens; e-mail inputs get `email` by default.
    pub autocomplete: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str) -> Self {
        Self {
            name,
            label,
            hint: None,
            required: false,
            autocomplete: None,
        }
    }

    pub fn autocomplete(mut self, token: &'a str) -> Self {
        self.autocomplete = Some(token);
        self
    }
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn described_by(&self, error: Option<&str>) -> Option<String> {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.name));
        }
        if error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    fn wrap(&self, ctx: &Ctx, error: Option<&str>, control: Markup) -> Markup {
        html! {
            div.field.kern-form-input.kern-form-input--error[error.is_some()] {
                label.kern-label for=(self.name) {
                    (self.label)
                    @if self.required { " " span aria-hidden="true" { "*" } span.visually-hidden { " (" (ctx.t("Pflichtfeld", "required")) ")" } }
                }
                @if let Some(h) = self.hint { span.kern-hint id={ (self.name) "-hint" } { (h) } }
                @if let Some(e) = error { span.kern-error id={ (self.name) "-error" } { (e) } }
                (control)
            }
        }
    }

    pub fn input(&self, ctx: &Ctx, kind: &str, values: &FormValues, errors: &FormErrors) -> Markup {
        let error = errors.get(self.name);
        let value = values.get(self.name).map(String::as_str).unwrap_or("");
        self.wrap(
            ctx,
            error,
            html! {
                input type=(kind) id=(self.name) name=(self.name) value=(value)
                    required[self.required] aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[self.described_by(error)]
                    autocomplete=[self.autocomplete.or((kind == "email").then_some("email"))];
            },
        )
    }

    pub fn textarea(
        &self,
        ctx: &Ctx,
        rows: u32,
        values: &FormValues,
        errors: &FormErrors,
    ) -> Markup {
        let error = errors.get(self.name);
        let value = values.get(self.name).map(String::as_str).unwrap_or("");
        self.wrap(
            ctx,
            error,
            html! {
                textarea id=(self.name) name=(self.name) rows=(rows)
                    required[self.required] aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[self.described_by(error)] { (value) }
            },
        )
    }

    /// A select; `options` are (value, label) pairs; an empty first option
    /// is added unless the field is required.
    pub fn select(
        &self,
        ctx: &Ctx,
        options: &[(&str, &str)],
        values: &FormValues,
        errors: &FormErrors,
    ) -> Markup {
        let error = errors.get(self.name);
        let current = values.get(self.name).map(String::as_str).unwrap_or("");
        self.wrap(ctx, error, html! {
            select id=(self.name) name=(self.name) required[self.required]
                aria-invalid=[error.map(|_| "true")] aria-describedby=[self.described_by(error)] {
                @if !self.required { option value="" { "–" } }
                @for (value, label) in options {
                    option value=(value) selected[*value == current] { (label) }
                }
            }
        })
    }

    pub fn checkbox(&self, values: &FormValues) -> Markup {
        let checked = values
            .get(self.name)
            .is_some_and(|v| v == "on" || v == "true");
        html! {
            div.field.checkbox {
                input type="checkbox" id=(self.name) name=(self.name) value="on" checked[checked];
                " "
                label.inline for=(self.name) { (self.label) }
            }
        }
    }
}

/// Splits a multi-line (or comma-separated) list field into entries.
pub fn lines(values: &FormValues, name: &str) -> Vec<String> {
    values
        .get(name)
        .map(|v| {
            v.split(['\n', ','])
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Only newline-separated, for entries that may contain commas.
pub fn rows(values: &FormValues, name: &str) -> Vec<String> {
    values
        .get(name)
        .map(|v| {
            v.lines()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

pub fn value(values: &FormValues, name: &str) -> Option<String> {
    values
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub fn set(values: &mut FormValues, name: &str, value: Option<impl ToString>) {
    if let Some(v) = value {
        values.insert(name.to_owned(), v.to_string());
    }
}
