//! Any event without its own renderer (one GitHub adds later): a text that
//! still says who, what and where, linked to the most specific page the
//! payload names, so that new events are delivered rather than refused.

use super::payload::Payload;
use super::Rendered;
use crate::text::words;

pub fn render(event: &str, p: &Payload) -> Rendered {
    let sender = p.sender();
    let action = p.action();
    let what = if action.is_empty() {
        event.to_owned()
    } else {
        format!("{event} ({})", words(action))
    };
    let place = match p.place() {
        place if place == "GitHub" => String::new(),
        place => format!(" on {place}"),
    };
    let text = format!("{sender} triggered {what}{place}");
    // GitHub names an event's object after the event (`label`, `milestone`).
    let own = p.str(&format!("{event}.html_url"));
    let link = if own.is_empty() {
        p.best_link()
    } else {
        own.to_owned()
    };
    Rendered::plain(sender, p.repo(), action).say(text, link)
}
