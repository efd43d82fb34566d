//! The exception classes: `Ipnkit\IpnException`, a `\RuntimeException` with the core's stable
//! code and the field, and one subclass per kind of the core's errors, made at module startup
//! from [`ipnkit::ErrorKind::ALL`] (`Ipnkit\DuplicateKeyException`…).
//!
//! They are plain PHP classes, without Rust data, so that PHP creates their objects itself: a
//! thrown `Ipnkit\IpnException` has its file, line and stack trace like any exception. The code
//! and the field are protected properties, set by the constructor.

use std::panic::AssertUnwindSafe;

use ext_php_rs::args::Arg;
use ext_php_rs::builders::{ClassBuilder, ClassProperty, FunctionBuilder};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{DataType, MethodFlags, PropertyFlags};
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{ClassEntry, ExecuteData, ce, run_handler};
use ext_php_rs::zend_fastcall;

/// The base class of every ipnkit exception.
pub(crate) const BASE: &str = "Ipnkit\\IpnException";

/// The PHP class of an error kind's stem (`DuplicateKey` → `Ipnkit\DuplicateKeyException`).
pub(crate) fn class_name(stem: &str) -> String {
    format!("Ipnkit\\{stem}Exception")
}

/// A class already registered, found during module startup, before the executor's class table
/// exists (`ClassEntry::try_find` needs that table; the compiler's holds the same entries).
#[allow(unsafe_code)]
fn registered(name: &str) -> Option<&'static ClassEntry> {
    // SAFETY: MINIT runs after the engine has set up its compiler globals; the class table is
    // read only, with the engine's own lookup, and its entries live as long as the process.
    unsafe {
        let globals = ext_php_rs::ffi::ext_php_rs_compiler_globals().as_ref()?;
        ext_php_rs::ffi::zend_hash_str_find_ptr_lc(
            globals.class_table,
            name.as_ptr().cast(),
            name.len(),
        )
        .cast::<ClassEntry>()
        .as_ref()
    }
}

// `ClassBuilder::extends` and `implements` take plain functions. Each class is checked by
// `register` (at startup, before any class of the module) so the fallbacks are never taken.
fn runtime_exception() -> &'static ClassEntry {
    registered("RuntimeException").unwrap_or_else(ce::exception)
}

/// `JsonSerializable` (ext/json, always built since PHP 8.0; checked at startup).
pub(crate) fn json_serializable() -> &'static ClassEntry {
    registered("JsonSerializable").unwrap_or_else(ce::stringable)
}

fn base() -> &'static ClassEntry {
    registered(BASE).unwrap_or_else(ce::exception)
}

/// The engine keeps the argument tables of registered methods for the life of the process.
fn keep(_class: &'static mut ClassEntry, tables: ext_php_rs::args::ArgInfoTables) {
    Box::leak(tables);
}

fn property(name: &str, nullable: bool) -> ClassProperty {
    ClassProperty {
        name: name.to_owned(),
        flags: PropertyFlags::Protected,
        default: Some(Box::new(move || {
            if nullable {
                Ok(Zval::new())
            } else {
                "".into_zval(false)
            }
        })),
        docs: &[],
        ty: Some(DataType::String),
        nullable,
        readonly: false,
        default_stub: Some(if nullable { "null" } else { "''" }.to_owned()),
    }
}

/// Registers `Ipnkit\IpnException` and a subclass per error kind. Called once at MINIT.
pub(crate) fn register() -> Result<(), String> {
    for name in ["RuntimeException", "JsonSerializable"] {
        if registered(name).is_none() {
            return Err(format!("{name} is not registered"));
        }
    }
    ClassBuilder::new(BASE)
        .extends((runtime_exception, "\\RuntimeException"))
        .property(property("errorCode", false))
        .property(property("field", true))
        .method(
            FunctionBuilder::new("__construct", construct)
                .arg(Arg::new("message", DataType::String))
                .arg(Arg::new("errorCode", DataType::String))
                .not_required()
                .arg(
                    Arg::new("field", DataType::String)
                        .allow_null()
                        .default("null"),
                ),
            MethodFlags::Public,
        )
        .method(
            FunctionBuilder::new("getErrorCode", get_error_code).returns(
                DataType::String,
                false,
                false,
            ),
            MethodFlags::Public | MethodFlags::Final,
        )
        .method(
            FunctionBuilder::new("getField", get_field).returns(DataType::String, false, true),
            MethodFlags::Public | MethodFlags::Final,
        )
        .registration(keep)
        .register()
        .map_err(|e| format!("{BASE}: {e}"))?;
    if !registered(BASE).is_some_and(|base| base.instance_of(runtime_exception())) {
        return Err(format!("{BASE} is not a RuntimeException"));
    }
    for kind in ipnkit::ErrorKind::ALL {
        let name = class_name(kind.stem());
        ClassBuilder::new(name.as_str())
            .extends((base, "\\Ipnkit\\IpnException"))
            .registration(keep)
            .register()
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

zend_fastcall! {
    extern fn construct(ex: &mut ExecuteData, _retval: &mut Zval) {
        run_handler(AssertUnwindSafe(|| {
            let mut message = Arg::new("message", DataType::String);
            let mut code = Arg::new("errorCode", DataType::String);
            let mut field = Arg::new("field", DataType::String).allow_null();
            let (parser, this) = ex.parser_object();
            let parsed = parser.arg(&mut message).arg(&mut code).not_required().arg(&mut field).parse();
            if parsed.is_err() {
                return; // the parser has thrown the TypeError
            }
            let (Some(this), Some(message), Some(code)) =
                (this, message.val::<String>(), code.val::<String>())
            else {
                type_error("Ipnkit\\IpnException::__construct(): the message and the error code are strings".into()).throw();
                return;
            };
            let field = field.val::<String>();
            let set = this
                .set_property("message", message)
                .and_then(|()| this.set_property("errorCode", code))
                .and_then(|()| this.set_property("field", field));
            if let Err(e) = set {
                error(format!("Ipnkit\\IpnException::__construct(): {e}")).throw();
            }
        }));
    }
}

fn read(ex: &mut ExecuteData, retval: &mut Zval, name: &str) {
    let Some(this) = ex.get_self() else {
        error(format!("{name} is read on an exception")).throw();
        return;
    };
    match this.get_property::<Option<String>>(name) {
        Ok(Some(value)) => {
            if let Err(e) = retval.set_string(&value, false) {
                error(format!("{name}: {e}")).throw();
            }
        }
        Ok(None) => retval.set_null(),
        Err(e) => error(format!("{name}: {e}")).throw(),
    }
}

zend_fastcall! {
    extern fn get_error_code(ex: &mut ExecuteData, retval: &mut Zval) {
        run_handler(AssertUnwindSafe(|| read(ex, retval, "errorCode")));
    }
}

zend_fastcall! {
    extern fn get_field(ex: &mut ExecuteData, retval: &mut Zval) {
        run_handler(AssertUnwindSafe(|| read(ex, retval, "field")));
    }
}

/// The exception of the core's `error`: the class of its kind, its message (which never holds
/// a value), its stable code and its field.
pub(crate) fn exception(error: &ipnkit::Error) -> PhpException {
    let name = class_name(error.kind().stem());
    match object(&name, error) {
        Ok(object) => PhpException::new(error.to_string(), 0, ce::exception()).with_object(object),
        Err(e) => bug(&format!("cannot create {name} ({e}): {error}")),
    }
}

fn object(name: &str, error: &ipnkit::Error) -> Result<Zval, String> {
    let class = ClassEntry::try_find(name).ok_or("the class is not registered")?;
    let object = ZendObject::new(class);
    let message = error.to_string();
    let field = error.field().map(str::to_owned);
    object
        .try_call_method("__construct", vec![&message, &error.code(), &field])
        .map_err(|e| e.to_string())?;
    object.into_zval(false).map_err(|e| e.to_string())
}

/// An `\Error`: a misuse PHP reports as one (a misspelled property), or a failure of the
/// binding itself.
pub(crate) fn error(message: String) -> PhpException {
    PhpException::new(message, 0, ce::error())
}

/// A failure of the binding itself (never of the input), as an `\Error`.
pub(crate) fn bug(what: &str) -> PhpException {
    error(format!("ipnkit: {what}"))
}

/// A `\TypeError` for an argument of the wrong type.
pub(crate) fn type_error(message: String) -> PhpException {
    PhpException::new(message, 0, ce::type_error())
}
