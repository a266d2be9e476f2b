//! The node's e-mails, plain text, German first and English after it: a
//! recipient's language is not known, and staff of German public bodies
//! read German. Notifications end with the link to turn them off (also
//! sent as `List-Unsubscribe`, one click, RFC 8058).

use allmende_store::mail::OutgoingMail;
use allmende_store::notifications::DigestEntry;

const RULE: &str = "\n\n-- English --\n\n";

fn footer(site: &str, unsubscribe: Option<&str>) -> String {
    match unsubscribe {
        Some(url) => format!(
            "\n\n--\nAllmende, {site}\nBenachrichtigungen einstellen oder abbestellen / Change or stop notifications:\n{url}\n"
        ),
        None => format!("\n\n--\nAllmende, {site}\n"),
    }
}

/// One mail with a German and an English part.
fn mail(
    to: &str,
    subject: String,
    de: String,
    en: String,
    site: &str,
    unsubscribe: Option<String>,
) -> OutgoingMail {
    OutgoingMail {
        recipient: to.to_owned(),
        subject,
        body: format!("{de}{RULE}{en}{}", footer(site, unsubscribe.as_deref())),
        unsubscribe_url: unsubscribe,
    }
}

pub struct Invitation<'a> {
    pub to: &'a str,
    pub organization: &'a str,
    pub inviter: &'a str,
    pub role_de: &'a str,
    pub role_en: &'a str,
    pub link: &'a str,
    pub valid_days: i64,
    pub site: &'a str,
}

pub fn invitation(i: &Invitation<'_>) -> OutgoingMail {
    mail(
        i.to,
        format!("Einladung: {} auf Allmende / Invitation to {}", i.organization, i.organization),
        format!(
            "Guten Tag,\n\n{inviter} lädt Sie ein, für {org} auf Allmende mitzuarbeiten (Rolle: {role}). Allmende ist das Austauschnetz der Kommunen: Vorhaben, Fragen und nachnutzbare Lösungen.\n\nLegen Sie hier Ihr Passwort fest, um das Konto anzulegen:\n{link}\n\nDer Link gilt {days} Tage und nur einmal. Wenn Sie die Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren.",
            inviter = i.inviter, org = i.organization, role = i.role_de, link = i.link, days = i.valid_days
        ),
        format!(
            "Hello,\n\n{inviter} invites you to work for {org} on Allmende (role: {role}), the exchange network of municipalities.\n\nSet your password here to create your account:\n{link}\n\nThe link is valid for {days} days and works once. If you did not expect this invitation, you can ignore this e-mail.",
            inviter = i.inviter, org = i.organization, role = i.role_en, link = i.link, days = i.valid_days
        ),
        i.site,
        None,
    )
}

pub fn password_reset(to: &str, link: &str, site: &str) -> OutgoingMail {
    mail(
        to,
        "Passwort zurücksetzen / Reset your password".into(),
        format!("Guten Tag,\n\nfür Ihr Konto auf Allmende wurde ein neues Passwort angefordert. Legen Sie es hier fest:\n{link}\n\nDer Link gilt eine Stunde und nur einmal. Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail; Ihr Passwort bleibt, wie es ist."),
        format!("Hello,\n\na new password was requested for your Allmende account. Set it here:\n{link}\n\nThe link is valid for one hour and works once. If you did not ask for this, ignore this e-mail; your password stays as it is."),
        site,
        None,
    )
}

/// What a notification is about, in both languages, with its link.
pub struct Notice {
    pub subject_de: String,
    pub subject_en: String,
    pub text_de: String,
    pub text_en: String,
    pub url: String,
}

pub fn notification(to: &str, n: &Notice, site: &str, unsubscribe: String) -> OutgoingMail {
    mail(
        to,
        format!("{} / {}", n.subject_de, n.subject_en),
        format!("Guten Tag,\n\n{}\n\n{}", n.text_de, n.url),
        format!("Hello,\n\n{}\n\n{}", n.text_en, n.url),
        site,
        Some(unsubscribe),
    )
}

pub fn digest(to: &str, entries: &[DigestEntry], site: &str, unsubscribe: String) -> OutgoingMail {
    let list = |german: bool| {
        entries
            .iter()
            .map(|e| {
                let line = if german { &e.line_de } else { &e.line_en };
                format!("- {line}\n  {}", e.url)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    mail(
        to,
        format!(
            "Allmende: {} Neuigkeiten / {} updates",
            entries.len(),
            entries.len()
        ),
        format!(
            "Guten Tag,\n\nseit der letzten Zusammenfassung:\n\n{}",
            list(true)
        ),
        format!("Hello,\n\nsince the last summary:\n\n{}", list(false)),
        site,
        Some(unsubscribe),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_and_the_unsubscribe_link() {
        let m = notification(
            "a@ulm.example",
            &Notice {
                subject_de: "Neue Antwort".into(),
                subject_en: "New answer".into(),
                text_de: "Mannheim hat geantwortet.".into(),
                text_en: "Mannheim answered.".into(),
                url: "https://a.example/questions/1".into(),
            },
            "a.example",
            "https://a.example/notifications/unsubscribe?u=1&t=x".into(),
        );
        assert_eq!(m.subject, "Neue Antwort / New answer");
        let de = m.body.find("Mannheim hat geantwortet.").unwrap();
        let en = m.body.find("Mannheim answered.").unwrap();
        assert!(de < en, "German first");
        assert!(m
            .body
            .contains("https://a.example/notifications/unsubscribe?u=1&t=x"));
        assert_eq!(
            m.unsubscribe_url.as_deref(),
            Some("https://a.example/notifications/unsubscribe?u=1&t=x")
        );
        let reset = password_reset(
            "a@ulm.example",
            "https://a.example/password/reset/t",
            "a.example",
        );
        assert!(
            reset.unsubscribe_url.is_none()
                && reset.body.contains("https://a.example/password/reset/t")
        );
    }
}
