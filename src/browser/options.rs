//! Reads the JS options object into `core::options::Options`, and turns a refusal into the
//! `TypeError` that names the option.
//!
//! Read with `Reflect.get` and a type check per option rather than serde-wasm-bindgen: its
//! errors format serde's messages, which links core's float and `Debug` formatting into the
//! wasm (+17,7xx B gzip measured, README "Size"), for one object read once per manager.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::js::{get, type_error};
use crate::core::options::{option_named, Named, OptionError, Options};

/// The options argument, validated, set into `options` (the defaults): `undefined` or `null`
/// changes nothing. Into a caller's `Options` rather than returned in a `Result`, which moved
/// the whole struct about (56 B gzip, README "Size").
///
/// One pass over the object's own keys: each must name an option, and its value is read
/// through that key (a JS string already, so no option name is made again to read it).
pub fn read_options(value: JsValue, options: &mut Options) -> Result<(), JsValue> {
    if value.is_null_or_undefined() {
        return Ok(());
    }
    if !value.is_object() || value.is_function() || value.is_array() {
        return Err(type_error("chatwire: options must be an object"));
    }
    let keys = Object::keys(value.unchecked_ref::<Object>());
    // Read with the `Reflect.get` binding the frames use, not js-sys' `Array` iterator and
    // its `length` and index bindings (106 B gzip, README "Size"): `Object.keys` gives
    // strings only, so the first index that reads anything else (`undefined`) is the end.
    for index in 0u32.. {
        let key = get(&keys, &JsValue::from(index));
        let Some(name) = key.as_string() else {
            break;
        };
        let named = option_named(&name).map_err(refused)?;
        let wrong_type = || refused(OptionError::WrongType(named.name()));
        // A getter that throws counts as a value of the wrong type.
        let given = Reflect::get(&value, &key).map_err(|_| wrong_type())?;
        if given.is_null_or_undefined() {
            continue;
        }
        match named {
            Named::Url => options.url = Some(given.as_string().ok_or_else(wrong_type)?),
            Named::Number(option) => {
                let number = given.as_f64().ok_or_else(wrong_type)?;
                options.set_number(option, number).map_err(refused)?;
            }
        }
    }
    Ok(())
}

fn refused(error: OptionError<'_>) -> JsValue {
    type_error(&error.message())
}
