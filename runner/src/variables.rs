//! Application variables: `[variables]` declarations, `SPIN_VARIABLE_<NAME>`
//! environment overrides, component-level templates, and the
//! `fermyon:spin/variables` and `wasi:config/store` host interfaces.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};

use crate::bindings::fermyon::spin::variables as spin_vars;
use crate::bindings::wasi::config::store as wasi_config;
use crate::manifest::{is_valid_variable_name, App};
use crate::HostState;

/// Resolved app-level variables (declared name -> value if it has one).
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: BTreeMap<String, Option<String>>,
}

impl AppVariables {
    /// Resolve every declared variable: environment override, then default.
    /// A required variable without a value is a startup error.
    pub fn resolve(app: &App, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (name, decl) in &app.variables {
            let from_env = env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()));
            let value = from_env.or_else(|| decl.default.clone());
            if value.is_none() && decl.required {
                bail!(
                    "required variable {name:?} has no value: set the environment variable SPIN_VARIABLE_{}",
                    name.to_ascii_uppercase()
                );
            }
            values.insert(name.clone(), value);
        }
        Ok(AppVariables { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.as_deref())
    }

    /// Expand `{{ name }}` references to app variables in `template`.
    pub fn render(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| anyhow!("unterminated '{{{{' in {template:?}"))?;
            let name = after[..end].trim();
            if !is_valid_variable_name(name) {
                bail!("invalid variable reference {name:?} in {template:?}");
            }
            match self.values.get(name) {
                None => bail!("{template:?} refers to variable {name:?}, which is not declared in [variables]"),
                Some(None) => bail!("variable {name:?} (used in {template:?}) has no value"),
                Some(Some(v)) => out.push_str(v),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The variables one component can read, already rendered.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    pub values: BTreeMap<String, String>,
}

impl ComponentVariables {
    pub fn resolve(templates: &BTreeMap<String, String>, app: &AppVariables) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (name, template) in templates {
            let v = app.render(template).map_err(|e| anyhow!("variable {name:?}: {e}"))?;
            values.insert(name.clone(), v);
        }
        Ok(ComponentVariables { values })
    }
}

/// Per-request variables state held in the store.
pub struct VariablesState {
    pub vars: Arc<ComponentVariables>,
}

impl spin_vars::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, spin_vars::Error>> {
        if !is_valid_variable_name(&name) {
            return Ok(Err(spin_vars::Error::InvalidName(format!("invalid variable name {name:?}"))));
        }
        Ok(match self.variables.vars.values.get(&name) {
            Some(v) => Ok(v.clone()),
            None => Err(spin_vars::Error::Undefined(format!("no variable for {name:?}"))),
        })
    }
}

impl wasi_config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        if !is_valid_variable_name(&key) {
            return Ok(Err(wasi_config::Error::Upstream(format!("invalid variable name {key:?}"))));
        }
        Ok(Ok(self.variables.vars.values.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        Ok(Ok(self.variables.vars.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_manifest;
    use std::path::Path;

    const APP: &str = r#"
spin_manifest_version = 2
[application]
name = "v"
[variables]
greeting = { default = "hello" }
api_base = { default = "http://localhost" }
token = { required = true, secret = true }
optional = {}
"#;

    fn app() -> App {
        parse_manifest(APP, Path::new("/")).unwrap()
    }

    #[test]
    fn defaults_and_env_overrides() {
        let vars = AppVariables::resolve(&app(), |k| match k {
            "SPIN_VARIABLE_TOKEN" => Some("s3cret".into()),
            "SPIN_VARIABLE_API_BASE" => Some("https://prod".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(vars.get("greeting"), Some("hello"));
        assert_eq!(vars.get("api_base"), Some("https://prod"));
        assert_eq!(vars.get("token"), Some("s3cret"));
        assert_eq!(vars.get("optional"), None);
    }

    #[test]
    fn required_without_value_fails() {
        let e = AppVariables::resolve(&app(), |_| None).unwrap_err().to_string();
        assert!(e.contains("SPIN_VARIABLE_TOKEN"), "{e}");
    }

    #[test]
    fn component_templates() {
        let vars = AppVariables::resolve(&app(), |k| (k == "SPIN_VARIABLE_TOKEN").then(|| "t".to_string())).unwrap();
        let mut t = BTreeMap::new();
        t.insert("msg".to_string(), "{{ greeting }}, world ({{api_base}})".to_string());
        t.insert("plain".to_string(), "literal".to_string());
        let c = ComponentVariables::resolve(&t, &vars).unwrap();
        assert_eq!(c.values["msg"], "hello, world (http://localhost)");
        assert_eq!(c.values["plain"], "literal");
        assert!(vars.render("{{ nope }}").unwrap_err().to_string().contains("not declared"));
        assert!(vars.render("{{ optional }}").unwrap_err().to_string().contains("no value"));
        assert!(vars.render("{{ greeting").is_err());
    }
}
