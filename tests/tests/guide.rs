//! The guide in `docs/` is an mdBook: it builds, every page is in it, and
//! every link between the pages (and from the README) leads somewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mdbook::book::BookItem;
use mdbook::MDBook;

fn docs() -> PathBuf {
    wamp_tests::workspace_root().join("docs")
}

/// The Markdown pages directly in `docs/`, but the summary.
fn pages() -> BTreeSet<String> {
    std::fs::read_dir(docs())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "SUMMARY.md")
        .collect()
}

#[test]
fn the_book_builds_with_every_page_in_it() {
    let mut book = MDBook::load(docs()).expect("docs/book.toml and docs/SUMMARY.md load");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book");
    let _ = std::fs::remove_dir_all(&out);
    book.config.build.build_dir = out.clone();

    let mut chapters = BTreeSet::new();
    for item in book.iter() {
        if let BookItem::Chapter(chapter) = item {
            let path = chapter.path.as_ref().expect("no draft chapters");
            assert!(!chapter.content.trim().is_empty(), "{} is empty", path.display());
            chapters.insert(path.to_string_lossy().into_owned());
        }
    }
    assert_eq!(chapters, pages(), "docs/SUMMARY.md lists every page of docs/, and only those");

    book.build().expect("the book builds");
    for page in pages() {
        let html = out.join(page.replace(".md", ".html"));
        assert!(html.exists(), "{} was not written", html.display());
    }
    assert!(out.join("images/chat.png").exists(), "the screenshot is part of the book");
}

/// The anchor GitHub and mdBook give a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings, code blocks left out.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// The targets of a Markdown file's inline links and images, code left out.
fn links(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code may hold `](`; leave it out.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for piece in prose.split("](").skip(1) {
            if let Some(end) = piece.find(')') {
                found.push(piece[..end].to_owned());
            }
        }
    }
    found
}

/// Every broken relative link of `file` (and its broken anchors).
fn broken_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = file.parent().unwrap();
    let mut broken = Vec::new();
    for link in links(&text) {
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
        let target = if path.is_empty() { file.to_owned() } else { dir.join(path) };
        if !target.exists() {
            broken.push(format!("{}: {link} (no such file)", file.display()));
        } else if !fragment.is_empty() && target.extension().is_some_and(|e| e == "md") {
            let target_text = std::fs::read_to_string(&target).unwrap();
            if !anchors(&target_text).contains(fragment) {
                broken.push(format!("{}: {link} (no such heading)", file.display()));
            }
        }
    }
    broken
}

#[test]
fn links_between_pages_lead_somewhere() {
    let mut broken = Vec::new();
    for page in pages().iter().chain(["SUMMARY.md".to_owned()].iter()) {
        broken.extend(broken_links(&docs().join(page)));
    }
    broken.extend(broken_links(&wamp_tests::workspace_root().join("README.md")));
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_finds_what_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.md");
    std::fs::write(dir.path().join("other.md"), "# Other page\n\n## The `wamp` tool, here\n").unwrap();
    std::fs::write(
        &page,
        "[ok](other.md) [ok](other.md#the-wamp-tool-here) [gone](missing.md) [bad](other.md#nothing)\n\
         `[code](missing.md)` [web](https://example.com/x.md)\n",
    )
    .unwrap();
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(
        broken[0].ends_with("missing.md (no such file)")
            && broken[1].ends_with("other.md#nothing (no such heading)")
    );
}
