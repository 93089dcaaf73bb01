/// The type of a PHID: `PHID-TASK-abc` → `TASK`. `None` when the text is not
/// shaped like a PHID.
pub fn phid_type(phid: &str) -> Option<&str> {
    let mut parts = phid.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("PHID"), Some(kind), Some(rest)) if !kind.is_empty() && !rest.is_empty() => {
            Some(kind)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_type() {
        assert_eq!(phid_type("PHID-TASK-ab12cd34ef56gh78ij90"), Some("TASK"));
        assert_eq!(phid_type("PHID-XACT-TASK-abc"), Some("XACT"));
        assert_eq!(phid_type("PHID-TASK-"), None);
        assert_eq!(phid_type("T123"), None);
        assert_eq!(phid_type(""), None);
    }
}
