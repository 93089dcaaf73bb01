//! Structs only from JSON objects, at every depth. serde's derived
//! `Deserialize` for a struct also accepts an array and fills the fields by
//! position, so `"repository": ["acme/web"]` would pass for a repository
//! object. [`Objects`] wraps a deserializer so that every
//! `deserialize_struct` asks for a map instead (serde_json then refuses `[`
//! with "invalid type: sequence, expected struct …"), and wraps every
//! visitor, map, sequence, enum and seed it hands out so that nested values
//! get the same treatment. Everything else is forwarded unchanged, which keeps
//! borrowed `&str`, `Cow` and `RawValue` fields working.
//!
//! Not covered: values serde first buffers into its private `Content` (the
//! fields of `#[serde(flatten)]`, internally tagged and untagged enums) are
//! read back by serde's own deserializer, outside this wrapper. No payload
//! struct uses those.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

/// Parse `text` like `serde_json::from_str`, except that a struct, at any
/// depth, is only filled from a JSON object, never from an array.
pub fn from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Objects(&mut json))?;
    // Trailing characters are an error, as with `serde_json::from_str`.
    json.end()?;
    Ok(value)
}

/// A deserializer whose structs come only from maps.
struct Objects<D>(D);

/// A visitor whose nested values are read through [`Objects`].
/// `refuse_seq` is set for struct variants, where no map can be asked for.
struct Wrapped<V> {
    visitor: V,
    refuse_seq: bool,
}

fn wrap<V>(visitor: V) -> Wrapped<V> {
    Wrapped {
        visitor,
        refuse_seq: false,
    }
}

struct Seq<A>(A);
struct Map<A>(A);
struct Enum<A>(A);
struct Variant<A>(A);
struct Seed<S>(S);

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Objects<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any deserialize_bool
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, wrap(visitor))
    }

    /// The same name goes on: serde_json recognises its private `RawValue`
    /// token here and hands back the raw text.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, wrap(visitor))
    }

    /// The point of the wrapper: a map, so an array is a type error.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(wrap(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.visitor.$method(value)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrapped<V> {
    type Value = V::Value;

    /// The wrapped visitor's words, so errors still say "expected struct X".
    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(formatter)
    }

    forward_visit! {
        visit_bool(bool)
        visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64) visit_i128(i128)
        visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64) visit_u128(u128)
        visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(Objects(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(Objects(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.refuse_seq {
            return Err(de::Error::invalid_type(Unexpected::Seq, &self));
        }
        self.visitor.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(Map(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_enum(Enum(data))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed(seed))?;
        Ok((value, Variant(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, wrap(visitor))
    }

    /// `VariantAccess` cannot be asked for a map, so the visitor refuses
    /// the array itself.
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Wrapped {
            visitor,
            refuse_seq: true,
        };
        self.0.struct_variant(fields, visitor)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Objects(deserializer))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::value::RawValue;

    use super::from_str;

    #[derive(Debug, Deserialize)]
    struct Push<'a> {
        #[serde(borrow, rename = "ref")]
        git_ref: &'a str,
        #[serde(borrow)]
        repository: Repo<'a>,
        #[serde(borrow, default)]
        commits: Vec<Commit<'a>>,
        #[serde(borrow, default)]
        sender: Option<Repo<'a>>,
    }

    #[derive(Debug, Deserialize)]
    struct Repo<'a> {
        #[serde(borrow)]
        full_name: Cow<'a, str>,
        #[serde(default)]
        private: bool,
    }

    #[derive(Debug, Deserialize)]
    struct Commit<'a> {
        #[serde(borrow)]
        id: &'a str,
    }

    #[test]
    fn nested_arrays_in_place_of_structs_are_refused() {
        let err = from_str::<Push<'_>>(r#"{"ref":"main","repository":["acme/web",true]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid type: sequence, expected struct Repo"),
            "{err}"
        );
        let err = from_str::<Push<'_>>(
            r#"{"ref":"m","repository":{"full_name":"a/b"},"commits":[["c0ffee"]]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected struct Commit"), "{err}");
        let err =
            from_str::<Push<'_>>(r#"{"ref":"m","repository":{"full_name":"a/b"},"sender":["x"]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("expected struct Repo"), "{err}");
        // The top level too, and in a map's values.
        assert!(from_str::<Repo<'_>>(r#"["a/b"]"#).is_err());
        assert!(from_str::<BTreeMap<&str, Repo<'_>>>(r#"{"x":["a/b"]}"#).is_err());
    }

    #[test]
    fn objects_arrays_of_objects_and_options_still_parse_borrowed() {
        let text = r#"{"ref":"refs/heads/main","repository":{"full_name":"acme/web","private":true},
            "commits":[{"id":"c0ffee"},{"id":"decade"}],"sender":null,"extra":[[1],{"a":[2]}]}"#;
        let push: Push<'_> = from_str(text).expect("valid");
        assert_eq!(push.git_ref, "refs/heads/main");
        assert!(matches!(
            push.repository.full_name,
            Cow::Borrowed("acme/web")
        ));
        assert!(push.repository.private);
        let ids: Vec<&str> = push.commits.iter().map(|c| c.id).collect();
        assert_eq!(ids, ["c0ffee", "decade"]);
        assert!(push.sender.is_none());
        // Escapes cannot be borrowed; `Cow` takes an owned copy.
        let repo: Repo<'_> = from_str(r#"{"full_name":"acme\/web"}"#).expect("valid");
        assert_eq!(repo.full_name, "acme/web");
    }

    /// serde_json reads `RawValue` through a newtype struct with a private
    /// name; the wrapper must pass that name on for it to keep working.
    #[test]
    fn raw_values_keep_their_exact_text_whatever_they_hold() {
        #[derive(Debug, Deserialize)]
        struct Posted<'a> {
            #[serde(borrow)]
            raw: &'a RawValue,
            #[serde(default)]
            owned: Option<Box<RawValue>>,
        }
        let posted: Posted<'_> =
            from_str(r#"{"raw": [ 1, {"a" : ["x"]} ], "owned": {"b":[2]}}"#).expect("valid");
        assert_eq!(posted.raw.get(), r#"[ 1, {"a" : ["x"]} ]"#);
        assert_eq!(
            posted.owned.map(|r| r.get().to_owned()),
            Some(r#"{"b":[2]}"#.into())
        );
    }

    #[test]
    fn enums_defaults_and_trailing_text_behave_as_with_serde_json() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Event {
            Ping,
            Push { after: String },
            Tag(String),
        }
        let events: Vec<Event> =
            from_str(r#"["ping",{"push":{"after":"c0"}},{"tag":"v1"}]"#).expect("valid");
        assert_eq!(
            events,
            [
                Event::Ping,
                Event::Push { after: "c0".into() },
                Event::Tag("v1".into())
            ]
        );
        let err = from_str::<Event>(r#"{"push":["c0"]}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type: sequence"), "{err}");

        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        struct Flags {
            test: bool,
            count: u64,
        }
        let flags: Flags = from_str(r#"{"count":3}"#).expect("valid");
        assert_eq!((flags.test, flags.count), (false, 3));
        assert!(from_str::<Flags>(r#"{"count":3} x"#).is_err());
    }
}
