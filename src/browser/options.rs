//! Reads the JS options object into `core::options::Options`, and turns a refusal into the
//! `TypeError` that names the option.
//!
//! Read with `Reflect.get` and a type check per option rather than serde-wasm-bindgen: its
//! errors format serde's messages, which links core's float and `Debug` formatting into the
//! wasm (+17,7xx B gzip measured, README "Size"), for one object read once per manager.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::js::type_error;
use crate::core::options::{check_name, OptionError, Options, OptionsBag, NUMBER_OPTIONS, URL};

/// The options argument, validated; `undefined` or `null` gives the defaults.
pub fn read_options(value: JsValue) -> Result<Options, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Options::default());
    }
    if !value.is_object() || value.is_function() || Array::is_array(&value) {
        return Err(type_error("chatwire: options must be an object"));
    }
    for name in Object::keys(value.unchecked_ref::<Object>()) {
        let name = name.as_string().unwrap_or_default();
        check_name(&name).map_err(refused)?;
    }
    let mut bag = OptionsBag::default();
    if let Some(url) = given(&value, URL)? {
        bag.url = Some(url.as_string().ok_or_else(|| wrong_type(URL))?);
    }
    for option in NUMBER_OPTIONS {
        if let Some(number) = given(&value, option.name)? {
            *(option.field)(&mut bag) =
                Some(number.as_f64().ok_or_else(|| wrong_type(option.name))?);
        }
    }
    Options::try_from(bag).map_err(refused)
}

/// The option `name` of `options`, unless it is `undefined` or `null`. A getter that throws
/// counts as a value of the wrong type.
fn given(options: &JsValue, name: &'static str) -> Result<Option<JsValue>, JsValue> {
    let field = Reflect::get(options, &name.into()).map_err(|_| wrong_type(name))?;
    Ok(Some(field).filter(|field| !field.is_undefined() && !field.is_null()))
}

fn wrong_type(name: &'static str) -> JsValue {
    refused(OptionError::WrongType(name))
}

fn refused(error: OptionError) -> JsValue {
    type_error(&error.message())
}
