//! `wamp new`: a new application from the app template (`app-template/` of
//! the repository), which is compiled into this binary so that no other
//! tool is needed.
//!
//! The template's files carry three placeholders, the ones
//! `cargo generate --path app-template` fills in as well: `{{project-name}}`
//! (the package name), `{{crate_name}}` (the same with `_` for `-`, as Rust
//! names the crate) and `{{wamp_dependency}}` (the framework dependency's
//! TOML value).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Create a new WAMP application: one component, its test, a wamp.toml.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The application's package name: lowercase letters, digits, `-` and
    /// `_`, starting with a letter.
    pub name: String,
    /// The folder in which the application's folder (named NAME) is
    /// created [default: the current directory].
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Depend on the framework in this local checkout (its `framework/`
    /// folder, or the checkout's root) instead of the published version.
    #[arg(long, value_name = "DIR")]
    pub framework_path: Option<PathBuf>,
}

/// The template's files, as paths relative to its folder. A test checks
/// that this is every file of `app-template/`.
const TEMPLATE: &[(&str, &str)] = &[
    (".gitignore", include_str!("../../app-template/.gitignore")),
    ("Cargo.toml", include_str!("../../app-template/Cargo.toml")),
    ("README.md", include_str!("../../app-template/README.md")),
    ("wamp.toml", include_str!("../../app-template/wamp.toml")),
    ("src/lib.rs", include_str!("../../app-template/src/lib.rs")),
    ("src/main.rs", include_str!("../../app-template/src/main.rs")),
    ("src/greeter.rs", include_str!("../../app-template/src/greeter.rs")),
    ("tests/greeter.rs", include_str!("../../app-template/tests/greeter.rs")),
];

/// Why an application could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The name is not one a package can have.
    #[error(
        "`{0}` cannot name an application: use lowercase letters, digits, `-` and `_`, \
         starting with a letter (and not a Rust keyword)"
    )]
    BadName(String),
    /// The application's folder exists already.
    #[error("{} exists already; choose another name or --path", .0.display())]
    Exists(PathBuf),
    /// `--framework-path` does not lead to the framework's crate.
    #[error(
        "{} is not the framework: --framework-path takes the `framework` folder of an \
         actix-wamp checkout, or the checkout itself",
        .0.display()
    )]
    NoFramework(PathBuf),
    /// Writing a file failed.
    #[error("cannot write {path}: {error}", path = .0.display(), error = .1)]
    Io(PathBuf, #[source] io::Error),
}

/// Creates the application and returns its folder.
pub fn new_app(args: &NewArgs) -> Result<PathBuf, NewError> {
    check_name(&args.name)?;
    let parent = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let dir = parent.join(&args.name);
    if dir.exists() {
        return Err(NewError::Exists(dir));
    }
    let dependency = match &args.framework_path {
        Some(path) => local_dependency(path)?,
        None => published_dependency(),
    };
    let values = Values {
        project_name: &args.name,
        crate_name: &args.name.replace('-', "_"),
        dependency: &dependency,
    };
    for (relative, text) in TEMPLATE {
        let path = dir.join(relative);
        let parent = path.parent().unwrap_or(&dir);
        fs::create_dir_all(parent).map_err(|e| NewError::Io(parent.to_owned(), e))?;
        fs::write(&path, values.fill(text)).map_err(|e| NewError::Io(path.clone(), e))?;
    }
    Ok(dir)
}

/// What the next steps are, for the user to read.
pub fn next_steps(dir: &Path, name: &str) -> String {
    let crate_name = name.replace('-', "_");
    let mut steps = String::new();
    if let Some(root) = enclosing_workspace(dir) {
        steps = format!(
            "Note: {} lies inside the Cargo workspace of {}; add the app to that workspace's `members`, \
             or to its `exclude` to build it on its own.\n\n",
            dir.display(),
            root.display()
        );
    }
    steps
        + &format!(
            "Created the application `{name}` in {dir}.\n\n\
         \x20 cd {dir}\n\
         \x20 cargo run     # its components beside an embedded router at ws://127.0.0.1:8080/ws\n\
         \x20 cargo test    # its component's test\n\n\
         Then, from another terminal:\n\n\
         \x20 wamp call com.example.{crate_name}.greet Ada\n",
            dir = dir.display()
        )
}

/// The folder of a Cargo workspace `dir` lies in, if any: cargo refuses to
/// build a package inside a workspace that does not list it.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let dir = fs::canonicalize(dir).ok()?;
    dir.ancestors().skip(1).find_map(|folder| {
        let manifest = fs::read_to_string(folder.join("Cargo.toml")).ok()?;
        manifest.lines().any(|line| line.trim() == "[workspace]").then(|| folder.to_owned())
    })
}

/// The placeholders' values.
struct Values<'a> {
    project_name: &'a str,
    crate_name: &'a str,
    dependency: &'a str,
}

impl Values<'_> {
    fn fill(&self, text: &str) -> String {
        text.replace("{{project-name}}", self.project_name)
            .replace("{{crate_name}}", self.crate_name)
            .replace("{{wamp_dependency}}", self.dependency)
    }
}

/// A package name that is also a usable crate name and URI component.
fn check_name(name: &str) -> Result<(), NewError> {
    const KEYWORDS: &[&str] = &[
        "as",
        "async",
        "await",
        "break",
        "const",
        "continue",
        "crate",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "macro",
        "override",
        "priv",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "try",
        "gen",
        "test",
        "std",
        "core",
        "alloc",
        "proc_macro",
        "wamp",
    ];
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let crate_name = name.replace('-', "_");
    if !starts_with_letter || !allowed || KEYWORDS.contains(&crate_name.as_str()) || name.len() > 64 {
        return Err(NewError::BadName(name.to_owned()));
    }
    Ok(())
}

/// `{ path = "..." }` for the framework crate at (or under) `path`.
fn local_dependency(path: &Path) -> Result<String, NewError> {
    let candidates = [path.to_owned(), path.join("framework")];
    let framework = candidates
        .iter()
        .find(|dir| fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|manifest| is_framework(&manifest)))
        .ok_or_else(|| NewError::NoFramework(path.to_owned()))?;
    let absolute = fs::canonicalize(framework).map_err(|_| NewError::NoFramework(path.to_owned()))?;
    let escaped = absolute.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!("{{ path = \"{escaped}\" }}"))
}

/// Whether a manifest is the framework's: its `[package]` is named `wamp`.
fn is_framework(manifest: &str) -> bool {
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[package]" && line.replace(' ', "") == "name=\"wamp\"" {
            return true;
        }
    }
    false
}

/// The framework's release this tool belongs to, as a Cargo requirement.
fn published_dependency() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let major_minor: Vec<&str> = version.split('.').take(2).collect();
    format!("\"{}\"", major_minor.join("."))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Template files only `cargo generate` reads; `wamp new` leaves them out.
    const GENERATOR_ONLY: &[&str] = &["cargo-generate.toml"];

    fn template_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../app-template")
    }

    /// Every file under `dir`, relative to `root`, but build output.
    fn files(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            if relative == "target" || relative == "Cargo.lock" {
                continue;
            }
            if path.is_dir() {
                files(root, &path, out);
            } else {
                out.push(relative);
            }
        }
    }

    #[test]
    fn every_file_of_the_template_is_embedded() {
        let root = template_dir();
        let mut on_disk = Vec::new();
        files(&root, &root, &mut on_disk);
        on_disk.retain(|f| !GENERATOR_ONLY.contains(&f.as_str()));
        on_disk.sort();
        let mut embedded: Vec<String> = TEMPLATE.iter().map(|(path, _)| path.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "TEMPLATE in cli/src/scaffold.rs lists app-template/'s files");
    }

    #[test]
    fn the_template_uses_only_the_placeholders_filled_in() {
        let values = Values { project_name: "demo-app", crate_name: "demo_app", dependency: "\"0.1\"" };
        for (path, text) in TEMPLATE {
            let filled = values.fill(text);
            assert!(
                !filled.contains("{{") && !filled.contains("{%"),
                "{path} has another placeholder or tag"
            );
        }
        let manifest = values.fill(TEMPLATE.iter().find(|(p, _)| *p == "Cargo.toml").unwrap().1);
        assert!(
            manifest.contains("name = \"demo-app\"") && manifest.contains("wamp = \"0.1\""),
            "{manifest}"
        );
    }

    #[test]
    fn an_app_inside_a_workspace_is_pointed_out() {
        let inside = Path::new(env!("CARGO_MANIFEST_DIR"));
        let steps = next_steps(inside, "demo");
        assert!(steps.starts_with("Note: ") && steps.contains("add the app to that workspace"), "{steps}");
        let outside = std::env::temp_dir();
        assert!(!next_steps(&outside, "demo").contains("workspace"));
    }

    /// The first ```python block of a Markdown text.
    fn python_block(markdown: &str) -> &str {
        markdown.split("```python\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap()
    }

    #[test]
    fn the_quickstart_shows_the_python_script_the_new_app_is_tested_with() {
        let values = Values { project_name: "my-app", crate_name: "my_app", dependency: "\"0.1\"" };
        let readme = values.fill(TEMPLATE.iter().find(|(p, _)| *p == "README.md").unwrap().1);
        let quickstart = include_str!("../../docs/quickstart.md");
        assert_eq!(python_block(quickstart), python_block(&readme));
    }

    #[test]
    fn names_are_checked() {
        for good in ["app", "my-app", "my_app2"] {
            check_name(good).unwrap();
        }
        for bad in ["", "2app", "My-App", "my app", "../x", "fn", "wamp", "test", "a.b"] {
            assert!(matches!(check_name(bad), Err(NewError::BadName(_))), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_framework_is_found_in_a_checkout_or_its_framework_folder() {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let from_root = local_dependency(&checkout).unwrap();
        let from_folder = local_dependency(&checkout.join("framework")).unwrap();
        assert_eq!(from_root, from_folder);
        assert!(from_root.starts_with("{ path = \"") && from_root.ends_with("framework\" }"), "{from_root}");
        assert!(matches!(local_dependency(&checkout.join("cli")), Err(NewError::NoFramework(_))));
        let published = published_dependency();
        let requirement = published.trim_matches('"');
        assert!(
            env!("CARGO_PKG_VERSION").starts_with(requirement) && requirement.split('.').count() == 2,
            "{published}"
        );
    }
}
