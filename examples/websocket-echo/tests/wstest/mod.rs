//! Running the Autobahn WebSocket testsuite (PyPI `autobahntestsuite`,
//! installed by tests/peers/install.sh) and comparing its results with the
//! recorded ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

/// What the suite reports per case: the behaviour, and the closing
/// behaviour.
pub type Results = BTreeMap<String, (String, String)>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `wstest -m MODE -s SPEC` (with `args` after), run from `dir`, with its
/// output to the test's stdout-less pipes.
pub fn wstest(mode: &str, spec: &Path, args: &[&str], dir: &Path) -> Command {
    let installed = workspace().join("tests/peers/.wstest");
    let python = std::fs::read_to_string(installed.join("python")).unwrap_or_else(|_| {
        panic!(
            "the Autobahn WebSocket testsuite is not installed in {}: run tests/peers/install.sh \
             (scripts/test does)",
            installed.display()
        )
    });
    let mut argv =
        vec!["wstest".to_owned(), "-m".into(), mode.into(), "-s".into(), spec.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    // `site.addsitedir` (not PYTHONPATH): the packages installed with
    // `pip --target` include namespace packages that need their .pth files.
    let launcher = format!(
        "import site, sys; site.addsitedir({:?}); sys.argv = {:?}; \
         from autobahntestsuite.wstest import run; run()",
        installed.display().to_string(),
        argv,
    );
    let mut command = Command::new(python.trim());
    command
        .arg("-c")
        .arg(launcher)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The results of one agent in the suite's `index.json`.
pub fn results(value: &serde_json::Value) -> Results {
    let cases = value.as_object().expect("an object of cases");
    cases
        .iter()
        .map(|(case, result)| {
            let field = |name: &str, index: usize| {
                result
                    .get(name)
                    .or_else(|| result.get(index))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_else(|| panic!("case {case}: no {name} in {result}"))
                    .to_owned()
            };
            (case.clone(), (field("behavior", 0), field("behaviorClose", 1)))
        })
        .collect()
}

/// The results the suite wrote to `reports` for `agent`.
pub fn read_results(reports: &Path, agent: &str) -> Results {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("index.json")).expect("the suite's index.json"))
            .unwrap();
    results(index.get(agent).expect("results for our agent"))
}

/// Fails, naming every case whose result differs from those recorded in
/// `tests/autobahn/NAME` (better or worse: an improvement is recorded by
/// updating the file).
pub fn compare(got: &Results, name: &str, scratch: &Path) {
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/autobahn").join(name);
    let expected = results(&serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap());
    let mut changes = Vec::new();
    for (case, want) in &expected {
        match got.get(case) {
            Some(have) if have == want => {}
            Some(have) => changes.push(format!("{case}: expected {want:?}, got {have:?}")),
            None => changes.push(format!("{case}: expected {want:?}, not run")),
        }
    }
    for (case, have) in got {
        if !expected.contains_key(case) {
            changes.push(format!("{case}: not expected, got {have:?}"));
        }
    }
    assert!(
        changes.is_empty(),
        "{} case(s) differ from {} (reports in {}):\n{}",
        changes.len(),
        expected_path.display(),
        scratch.display(),
        changes.join("\n")
    );
}
