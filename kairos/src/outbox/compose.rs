//! Writing a mail from a notice: plain text and HTML from the same askama view (every user
//! text escaped in the HTML), and for a customer the booking's calendar entry as an iTIP part.

use askama::Template;
use lettre::{
    Message,
    message::{Mailbox, MultiPart, SinglePart, header::ContentType},
};

use crate::{
    app::Outgoing,
    domain::{
        booking::{Booking, TimeRange},
        calendar::{CalendarEvent, Method, render_invitation},
        local_time::when,
        notice::{Audience, Letter, Notice, NoticeKind, WaitlistNotice, WebhookNotice},
    },
};

/// Who mail comes from, and where links point.
#[derive(Debug, Clone)]
pub struct Letterhead {
    pub from: Mailbox,
    /// The public URL, without a trailing slash.
    pub public_url: String,
    /// Its host: the right-hand side of calendar UIDs.
    pub host: String,
}

/// What both templates show.
struct View {
    headline: String,
    service_name: String,
    when: String,
    previous_when: Option<String>,
    location: String,
    information: Vec<String>,
    notes: Option<String>,
    reason: Option<String>,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct Text<'a> {
    view: &'a View,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct Html<'a> {
    view: &'a View,
}

/// Why a mail could not be written: it will not get better by trying again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unwritable(String);

fn headline(notice: &Notice) -> String {
    let customer = &notice.customer_email;
    match (notice.kind, notice.audience) {
        (NoticeKind::Created, Audience::Customer) => match notice.source {
            Some(crate::domain::event::BookingSource::Waitlist) => {
                "A place came free and you were first on the waitlist: you are booked.".into()
            }
            _ => "You are booked.".into(),
        },
        (NoticeKind::Moved, Audience::Customer) => "Your booking has moved.".into(),
        (NoticeKind::Cancelled, Audience::Customer) => format!(
            "Your booking was cancelled by {}.",
            notice.cancelled_by().unwrap_or("someone")
        ),
        (NoticeKind::Reminder, _) => "A reminder of your booking.".into(),
        (NoticeKind::Created, Audience::Provider) => format!("{customer} booked a place."),
        (NoticeKind::Moved, Audience::Provider) => format!("{customer}'s booking has moved."),
        (NoticeKind::Cancelled, Audience::Provider) => format!(
            "{customer}'s booking was cancelled by {}.",
            notice.cancelled_by().unwrap_or("someone")
        ),
    }
}

fn view(notice: &Notice, letterhead: &Letterhead) -> View {
    let booking = &notice.booking;
    let details = &booking.session_details;
    let reader = match notice.audience {
        Audience::Customer => booking.user_id,
        Audience::Provider => booking.provider_id,
    };
    let previous_when = notice
        .previous_time
        .as_ref()
        .map(|TimeRange { start, end }| when(*start, *end, &details.time_zone));
    View {
        headline: headline(notice),
        service_name: booking.service_name.clone(),
        when: notice.when(),
        previous_when,
        location: details.location.clone(),
        information: details.additional_information.clone(),
        // The customer's words are for the provider.
        notes: booking
            .notes
            .clone()
            .filter(|_| notice.audience == Audience::Provider),
        reason: booking
            .cancellation_reason
            .clone()
            .filter(|_| notice.kind == NoticeKind::Cancelled),
        link: format!(
            "{}/user/{reader}/bookings/{}",
            letterhead.public_url, booking.id
        ),
    }
}

#[derive(Template)]
#[template(path = "mail/webhook_disabled.txt")]
struct WebhookText<'a> {
    url: &'a str,
    since: String,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/webhook_disabled.html")]
struct WebhookHtml<'a> {
    url: &'a str,
    since: String,
    link: String,
}

/// What both templates of the waitlist mail show.
struct Waited {
    service_name: String,
    when: String,
    reason: &'static str,
    position: i64,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/waitlist_ended.txt")]
struct WaitlistText<'a> {
    view: &'a Waited,
}

#[derive(Template)]
#[template(path = "mail/waitlist_ended.html")]
struct WaitlistHtml<'a> {
    view: &'a Waited,
}

fn unwritable(what: &str, err: &dyn std::fmt::Display) -> Unwritable {
    Unwritable(format!("{what}: {err}"))
}

/// The mail for a claimed message, ready to send.
pub fn compose(message: &Outgoing, letterhead: &Letterhead) -> Result<Message, Unwritable> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| unwritable("the recipient's address", &e))?;
    let parts = match &message.letter {
        Letter::Booking(notice) => booking_parts(notice, letterhead)?,
        Letter::WebhookDisabled(notice) => webhook_parts(notice, letterhead)?,
        Letter::WaitlistEnded(notice) => waitlist_parts(notice, letterhead)?,
    };
    Message::builder()
        .from(letterhead.from.clone())
        .to(to)
        .subject(message.letter.subject())
        .message_id(Some(message.message_id.clone()))
        .multipart(parts)
        .map_err(|e| unwritable("the message", &e))
}

fn webhook_parts(notice: &WebhookNotice, letterhead: &Letterhead) -> Result<MultiPart, Unwritable> {
    let since = notice
        .failing_since
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let link = format!(
        "{}/user/{}/webhooks",
        letterhead.public_url, notice.owner_id
    );
    let text = WebhookText {
        url: &notice.url,
        since: since.clone(),
        link: link.clone(),
    };
    let html = WebhookHtml {
        url: &notice.url,
        since,
        link,
    };
    alternative(&text, &html)
}

/// The plain-text and HTML parts of a mail, from its two templates.
fn alternative(text: &impl Template, html: &impl Template) -> Result<MultiPart, Unwritable> {
    let text = text.render().map_err(|e| unwritable("the text part", &e))?;
    let html = html.render().map_err(|e| unwritable("the HTML part", &e))?;
    Ok(MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .singlepart(SinglePart::html(html)))
}

/// A waitlist's end, as text and HTML: no calendar part, since nothing was booked.
fn waitlist_parts(
    notice: &WaitlistNotice,
    letterhead: &Letterhead,
) -> Result<MultiPart, Unwritable> {
    let entry = &notice.ended.entry;
    let view = Waited {
        service_name: entry.service_name.clone(),
        when: notice.when(),
        reason: notice.ended.reason.in_words(),
        position: entry.position,
        link: format!("{}/services/{}", letterhead.public_url, entry.service_id),
    };
    alternative(&WaitlistText { view: &view }, &WaitlistHtml { view: &view })
}

/// A booking notice's text and HTML, and for the customer its calendar entry.
fn booking_parts(notice: &Notice, letterhead: &Letterhead) -> Result<MultiPart, Unwritable> {
    let view = view(notice, letterhead);
    let mut parts = alternative(&Text { view: &view }, &Html { view: &view })?;
    if notice.audience == Audience::Customer {
        let method = if notice.kind == NoticeKind::Cancelled {
            Method::Cancel
        } else {
            Method::Request
        };
        // The booking as the notice fixed it, at the SEQUENCE it had then.
        let booking = Booking {
            sequence: notice.sequence,
            ..notice.booking.clone()
        };
        let event = CalendarEvent::of_booking(
            &booking,
            &notice.service_description,
            &letterhead.host,
            Some(view.link),
        );
        let invitation =
            render_invitation(method, &event, letterhead.from.email.as_ref(), &notice.to);
        let content_type = ContentType::parse(&format!(
            "text/calendar; charset=utf-8; method={}",
            method.as_str()
        ))
        .map_err(|e| unwritable("the calendar part's type", &e))?;
        parts = parts.singlepart(SinglePart::builder().header(content_type).body(invitation));
    }
    Ok(parts)
}
