//! Application data: values given to the host once (a database pool, the
//! application's settings) and handed to every handler that asks for them
//! by type, as actix-web hands `web::Data` to its handlers. The type is
//! actix-web's own [`Data`], so a value shared with an actix-web app is
//! the same `Arc` in both.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

pub use actix_web::web::Data;

/// The values a host was given, by type.
#[derive(Clone, Default)]
pub(crate) struct AppData {
    by_type: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl AppData {
    /// Adds (or replaces) the value of type `T`.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, data: Data<T>) {
        Arc::make_mut(&mut self.by_type).insert(TypeId::of::<T>(), Arc::new(data));
    }

    /// The value of type `T`, if the host has one.
    pub(crate) fn get<T: 'static>(&self) -> Option<Data<T>> {
        self.by_type.get(&TypeId::of::<T>()).and_then(|any| any.downcast_ref::<Data<T>>()).cloned()
    }

    /// Whether the host has a value of the type `need` names.
    pub(crate) fn has(&self, need: &DataNeed) -> bool {
        self.by_type.contains_key(&need.type_id)
    }
}

impl std::fmt::Debug for AppData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppData({} values)", self.by_type.len())
    }
}

/// A type of application data a component's handlers take.
#[derive(Debug, Clone, Copy)]
pub struct DataNeed {
    type_id: TypeId,
    type_name: &'static str,
}

impl DataNeed {
    /// The need of a `Data<T>` parameter.
    pub fn of<T: 'static>() -> Self {
        DataNeed { type_id: TypeId::of::<T>(), type_name: std::any::type_name::<T>() }
    }

    /// The type's name, for errors.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}
