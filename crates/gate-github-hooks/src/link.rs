//! The `Link` header of GitHub's paginated answers:
//! `<https://api.github.com/...&cursor=v1_9>; rel="next", <...>; rel="prev"`.

use http::HeaderMap;

/// The URL of the `rel="next"` page, if any.
pub fn next_page(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|entry| {
            let mut parts = entry.split(';');
            let target = parts.next()?.trim();
            let url = target.strip_prefix('<')?.strip_suffix('>')?;
            parts
                .any(|param| {
                    let param = param.trim();
                    param == "rel=\"next\"" || param == "rel=next"
                })
                .then(|| url.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(http::header::LINK, v.parse().expect("header"));
        }
        map
    }

    #[test]
    fn finds_next_among_other_relations() {
        let h = headers(&[
            "<https://api.github.com/x?cursor=a>; rel=\"prev\", <https://api.github.com/x?per_page=100&cursor=v1_9>; rel=\"next\"",
        ]);
        assert_eq!(
            next_page(&h).as_deref(),
            Some("https://api.github.com/x?per_page=100&cursor=v1_9")
        );
    }

    #[test]
    fn none_on_the_last_page() {
        assert_eq!(next_page(&headers(&["<https://a/x>; rel=\"prev\""])), None);
        assert_eq!(next_page(&HeaderMap::new()), None);
        assert_eq!(next_page(&headers(&["garbage"])), None);
    }
}
