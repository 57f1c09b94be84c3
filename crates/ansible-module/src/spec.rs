//! The declarative description of a module's options and the rules between them, in the
//! vocabulary of AnsibleModule's `argument_spec`.

use serde_json::{json, Map, Value};

/// The documentation fragment of the options every module of a collection shares.
pub const COMMON_FRAGMENT: &str = "common";

/// An option's type, as AnsibleModule names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Str,
    Int,
    Float,
    Bool,
    List,
    Dict,
    Path,
    Raw,
}

impl Type {
    /// The name AnsibleModule uses in its messages.
    pub fn name(self) -> &'static str {
        match self {
            Type::Str => "str",
            Type::Int => "int",
            Type::Float => "float",
            Type::Bool => "bool",
            Type::List => "list",
            Type::Dict => "dict",
            Type::Path => "path",
            Type::Raw => "raw",
        }
    }
}

/// A constant value in a spec: an option's default, or the value a `required_if` rule looks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lit {
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

impl Lit {
    pub fn to_value(self) -> Value {
        match self {
            Lit::Str(s) => Value::from(s),
            Lit::Int(i) => Value::from(i),
            Lit::Bool(b) => Value::from(b),
        }
    }

    /// How Python's `%s` prints it, as in "state is absent but ...".
    pub fn display(self) -> String {
        match self {
            Lit::Str(s) => s.to_owned(),
            Lit::Int(i) => i.to_string(),
            Lit::Bool(true) => "True".to_owned(),
            Lit::Bool(false) => "False".to_owned(),
        }
    }
}

/// One option of a module.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub kind: Type,
    /// For lists: the type each element is converted to.
    pub elements: Option<Type>,
    pub required: bool,
    pub default: Option<Lit>,
    pub choices: &'static [&'static str],
    pub aliases: &'static [&'static str],
    /// Aliases that still work but add a deprecation to the result.
    pub deprecated_aliases: &'static [&'static str],
    /// Environment variables read when the option is not given, in order: the first one that
    /// is present wins, even if it is empty (Ansible's `env_fallback`).
    pub env: &'static [&'static str],
    /// Those of `env` that still work but add a deprecation to the result.
    pub deprecated_env: &'static [&'static str],
    pub no_log: bool,
}

impl Opt {
    pub const fn new(name: &'static str, kind: Type) -> Self {
        Opt {
            name,
            kind,
            elements: None,
            required: false,
            default: None,
            choices: &[],
            aliases: &[],
            deprecated_aliases: &[],
            env: &[],
            deprecated_env: &[],
            no_log: false,
        }
    }
    pub const fn str(name: &'static str) -> Self {
        Opt::new(name, Type::Str)
    }
    pub const fn int(name: &'static str) -> Self {
        Opt::new(name, Type::Int)
    }
    pub const fn bool(name: &'static str) -> Self {
        Opt::new(name, Type::Bool)
    }
    pub const fn list(name: &'static str, elements: Type) -> Self {
        let mut o = Opt::new(name, Type::List);
        o.elements = Some(elements);
        o
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn default(mut self, value: Lit) -> Self {
        self.default = Some(value);
        self
    }
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    /// Deprecated aliases are accepted like the others; they must not be listed in `aliases`.
    pub const fn deprecated_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.deprecated_aliases = aliases;
        self
    }
    pub const fn env(mut self, vars: &'static [&'static str]) -> Self {
        self.env = vars;
        self
    }
    /// Marks some of the `env` variables as deprecated (they must also be listed in `env`).
    pub const fn deprecated_env(mut self, vars: &'static [&'static str]) -> Self {
        self.deprecated_env = vars;
        self
    }
    pub const fn no_log(mut self) -> Self {
        self.no_log = true;
        self
    }

    /// Every name the option answers to, canonical first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .chain(self.deprecated_aliases.iter().copied())
    }
}

/// `required_if`: when `key` equals `value`, all (or, with `any`, one) of `requires` must be given.
#[derive(Clone, Copy, Debug)]
pub struct RequiredIf {
    pub key: &'static str,
    pub value: Lit,
    pub requires: &'static [&'static str],
    pub any: bool,
}

/// A whole module: its options (the common ones merged in) and the rules between them.
#[derive(Clone, Debug)]
pub struct ModuleSpec {
    /// The module's short name, used when Ansible does not send `_ansible_module_name`.
    pub name: &'static str,
    /// The collection that owns the module, named in deprecations.
    pub collection: &'static str,
    pub options: Vec<Opt>,
    pub mutually_exclusive: Vec<&'static [&'static str]>,
    pub required_together: Vec<&'static [&'static str]>,
    pub required_one_of: Vec<&'static [&'static str]>,
    pub required_if: Vec<RequiredIf>,
    pub required_by: Vec<(&'static str, &'static [&'static str])>,
    pub supports_check_mode: bool,
    /// Set when check mode is supported only for runs that give this option; other runs are
    /// skipped in check mode as by a module without support.
    pub check_mode_requires: Option<&'static str>,
    /// Options that came from a shared set (see [`ModuleSpec::shared_options`]), with the name
    /// of the documentation fragment that documents the set.
    pub shared: Vec<(&'static str, &'static str)>,
}

impl ModuleSpec {
    pub fn new(name: &'static str, collection: &'static str) -> Self {
        ModuleSpec {
            name,
            collection,
            options: Vec::new(),
            mutually_exclusive: Vec::new(),
            required_together: Vec::new(),
            required_one_of: Vec::new(),
            required_if: Vec::new(),
            required_by: Vec::new(),
            supports_check_mode: false,
            check_mode_requires: None,
            shared: Vec::new(),
        }
    }

    /// Adds options; a later option with the same name replaces the earlier one, so a module
    /// can refine a common option.
    pub fn options(mut self, options: &[Opt]) -> Self {
        for opt in options {
            match self.options.iter_mut().find(|o| o.name == opt.name) {
                Some(existing) => *existing = *opt,
                None => self.options.push(*opt),
            }
        }
        self
    }
    /// Adds options that several modules share, documented once in the documentation
    /// fragment `fragment`; the module's own options added later may still refine them.
    pub fn shared_options(mut self, fragment: &'static str, options: &[Opt]) -> Self {
        self.shared
            .extend(options.iter().map(|o| (o.name, fragment)));
        self.options(options)
    }
    pub fn mutually_exclusive(mut self, names: &'static [&'static str]) -> Self {
        self.mutually_exclusive.push(names);
        self
    }
    pub fn required_together(mut self, names: &'static [&'static str]) -> Self {
        self.required_together.push(names);
        self
    }
    pub fn required_one_of(mut self, names: &'static [&'static str]) -> Self {
        self.required_one_of.push(names);
        self
    }
    pub fn required_if(mut self, rule: RequiredIf) -> Self {
        self.required_if.push(rule);
        self
    }
    pub fn required_by(mut self, key: &'static str, requires: &'static [&'static str]) -> Self {
        self.required_by.push((key, requires));
        self
    }
    pub fn supports_check_mode(mut self) -> Self {
        self.supports_check_mode = true;
        self
    }
    /// Check mode is supported when `option` is given (not null, not `''`); without it a
    /// check-mode run is skipped, as for a module without support.
    pub fn supports_check_mode_with(mut self, option: &'static str) -> Self {
        self.supports_check_mode = true;
        self.check_mode_requires = Some(option);
        self
    }
    /// Whether a run with these (validated) options does its work in check mode.
    pub fn runs_in_check_mode(&self, params: &Map<String, Value>) -> bool {
        match self.check_mode_requires {
            Some(option) => params
                .get(option)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some("")),
            None => self.supports_check_mode,
        }
    }
    /// The documentation fragment that documents `option`, if it is a shared one.
    pub fn fragment_of(&self, option: &str) -> Option<&'static str> {
        self.shared
            .iter()
            .find(|(o, _)| *o == option)
            .map(|(_, f)| *f)
    }

    pub fn option(&self, name: &str) -> Option<&Opt> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The spec as JSON, in AnsibleModule's vocabulary (what `--print-spec` prints): every
    /// option with its type, aliases, environment variables and flags, then the rules.
    pub fn to_json(&self) -> Value {
        let options: Map<String, Value> = self
            .options
            .iter()
            .map(|o| (o.name.to_owned(), o.to_json(self.fragment_of(o.name))))
            .collect();
        json!({
            "supports_check_mode": self.supports_check_mode,
            "check_mode_requires": self.check_mode_requires,
            "options": options,
            "mutually_exclusive": self.mutually_exclusive,
            "required_together": self.required_together,
            "required_one_of": self.required_one_of,
            "required_if": self.required_if.iter().map(|r| json!({
                "key": r.key,
                "value": r.value.to_value(),
                "requires": r.requires,
                "any": r.any,
            })).collect::<Vec<_>>(),
            "required_by": self.required_by.iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect::<Map<String, Value>>(),
        })
    }
}

impl Opt {
    /// One option as JSON; `fragment` names the documentation fragment of a shared option
    /// (`common` is the one every module shares).
    fn to_json(self, fragment: Option<&str>) -> Value {
        json!({
            "type": self.kind.name(),
            "elements": self.elements.map(Type::name),
            "required": self.required,
            "default": self.default.map(Lit::to_value),
            "choices": self.choices,
            "aliases": self.aliases,
            "deprecated_aliases": self.deprecated_aliases,
            "env": self.env,
            "deprecated_env": self.deprecated_env,
            "no_log": self.no_log,
            "common": fragment == Some(COMMON_FRAGMENT),
            "fragment": fragment,
        })
    }
}
