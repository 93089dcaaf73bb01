//! Form bodies with PHP-style nested keys (`storyData[objectPHID]=...`, as
//! PHP's `http_build_query` writes them) decoded into a JSON object.

use serde_json::{Map, Value};

/// Deeper nesting than this is refused: feed stories use two levels.
const MAX_DEPTH: usize = 8;

/// Decode `body` into an object; repeated keys keep the last value, as PHP
/// does; `key[]` appends to an array.
pub fn decode(body: &[u8]) -> Result<Map<String, Value>, String> {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        let path = split_key(&key)?;
        insert(&mut root, &path, Value::String(value.into_owned()))?;
    }
    Ok(root)
}

/// `a[b][c]` → `["a", "b", "c"]`; a key whose brackets do not close is one
/// plain name.
fn split_key(key: &str) -> Result<Vec<&str>, String> {
    let Some(open) = key.find('[') else {
        return Ok(vec![key]);
    };
    let (base, mut rest) = key.split_at(open);
    let mut path = vec![base];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some((segment, after)) = inner.split_once(']') else {
            return Ok(vec![key]);
        };
        path.push(segment);
        rest = after;
    }
    if !rest.is_empty() || base.is_empty() {
        return Ok(vec![key]);
    }
    if path.len() > MAX_DEPTH {
        return Err(format!("form key nested deeper than {MAX_DEPTH} levels"));
    }
    Ok(path)
}

fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    match rest {
        [] => {
            map.insert((*first).to_owned(), value);
        }
        [""] => {
            let slot = map
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                items.push(value);
            }
        }
        _ => {
            if rest.first() == Some(&"") {
                return Err("form key with [] before the last level".into());
            }
            let slot = map
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                insert(inner, rest, value)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_keys_become_objects() {
        let body = b"storyID=7&storyData%5BobjectPHID%5D=PHID-TASK-x&storyData[transactionPHIDs][PHID-XACT-1]=PHID-XACT-1&tags[]=a&tags[]=b&storyText=a+b%26c";
        let decoded = Value::Object(decode(body).expect("decodes"));
        assert_eq!(
            decoded,
            json!({
                "storyID": "7",
                "storyData": {"objectPHID": "PHID-TASK-x", "transactionPHIDs": {"PHID-XACT-1": "PHID-XACT-1"}},
                "tags": ["a", "b"],
                "storyText": "a b&c"
            })
        );
    }

    #[test]
    fn odd_keys_are_plain_names_and_deep_ones_are_refused() {
        let decoded = Value::Object(decode(b"a[b=1&[x]=2&c[d]e=3&f=1&f[g]=2").expect("decodes"));
        assert_eq!(
            decoded,
            json!({"a[b": "1", "[x]": "2", "c[d]e": "3", "f": {"g": "2"}})
        );
        assert!(decode(b"a[1][2][3][4][5][6][7][8]=x").is_err());
        assert!(decode(b"a[][b]=x").is_err());
    }
}
