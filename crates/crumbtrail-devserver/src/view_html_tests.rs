use super::*;
use crumbtrail_protocol::{Breadcrumb, Event, Exception, ItemType};
use time::OffsetDateTime;

const HOSTILE: &str = "<script>alert('x')</script>&\"";

fn received(event: Event) -> ReceivedEvent {
    ReceivedEvent {
        envelope_seq: 1,
        received_at: OffsetDateTime::UNIX_EPOCH,
        item_type: ItemType::Event,
        event,
    }
}

fn hostile_event() -> Event {
    let mut event = Event::new();
    event.message = Some(HOSTILE.into());
    event.release = Some(HOSTILE.into());
    event.tags.insert(HOSTILE.into(), HOSTILE.into());
    event.exception = Some(vec![Exception::new(HOSTILE, HOSTILE)].into());
    event.breadcrumbs = Some(
        vec![
            Breadcrumb::new()
                .with_category(HOSTILE)
                .with_message(HOSTILE),
            Breadcrumb::http("GET", "https://x.test/?a=<b>", Some(500)),
        ]
        .into(),
    );
    event
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let event = hostile_event();
    for page in [
        render_event_page(&received(event.clone())),
        render_index(&[Arc::new(received(event))]),
    ] {
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("alert('x')"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
    }
}

#[test]
fn event_page_has_the_breadcrumb_timeline() {
    let page = render_event_page(&received(hostile_event()));
    assert!(page.starts_with("<!doctype html>"));
    let start = page
        .find("<ol id=\"breadcrumbs\">")
        .expect("breadcrumb list");
    let end = start + page[start..].find("</ol>").unwrap();
    let list = &page[start..end];
    assert_eq!(list.matches("<li class=\"crumb").count(), 2);
    assert!(list.contains("<li class=\"crumb level-error\">"));
    assert!(
        list.contains("GET https://x.test/?a=&lt;b&gt; → 500"),
        "{list}"
    );
    assert!(page.contains("<ol id=\"exceptions\">"));
    assert!(page.contains("<table id=\"tags\">"));
}

#[test]
fn an_event_without_crumbs_still_has_the_list() {
    let page = render_event_page(&received(Event::new()));
    assert!(page.contains("<ol id=\"breadcrumbs\">\n</ol>"), "{page}");
    assert!(page.contains("&lt;no message&gt;"));
}

#[test]
fn index_lists_newest_first_with_links() {
    let mut a = Event::new();
    a.message = Some("msg-alpha".into());
    let mut b = Event::new();
    b.message = Some("msg-beta".into());
    let page = render_index(&[Arc::new(received(a.clone())), Arc::new(received(b.clone()))]);
    let first = page.find("msg-alpha").unwrap();
    let second = page.find("msg-beta").unwrap();
    assert!(second < first);
    assert!(page.contains(&format!("<a href=\"/events/{}\">msg-alpha</a>", a.event_id)));
    assert!(render_index(&[]).contains("No events yet"));
}
