//! Response objects in selection order, as GraphQL's ordered-map rule requires.
//!
//! async-graphql resolves an object's fields concurrently and inserts each into the object as
//! it completes, so a field that waits for the database (a `totalCount`, a batch) can land
//! after its later siblings. This pass puts every object's keys back in the order the
//! operation selects them (the spec's CollectFields: fields, then fragments in place, `@skip`
//! and `@include` applied, repeated keys merged at their first place).
//!
//! The pass reads no types, so it treats every fragment as applying. That holds wherever the
//! field's type is an object (a fragment's condition can only be that type). The one abstract
//! type is the `Node` interface, answered only by the root fields [`ABSTRACT_ROOT_FIELDS`]:
//! there `... on Customer` and `... on Product` may both be selected and only one applies, so
//! the object itself is left in the order [`NodeAnswer`](super::types::NodeAnswer) gave it
//! (which knows the object's type), and only the fields below it are walked.

use std::collections::HashSet;

use async_graphql::{
    Name, Positioned, Value as ConstValue, Variables,
    indexmap::IndexMap,
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
};
use async_graphql_value::Value;

/// Reorders `data`, the answer to `operation` of `document`, in selection order.
pub fn reorder(
    data: &mut ConstValue,
    document: &ExecutableDocument,
    operation: Option<&str>,
    variables: &Variables,
) {
    let chosen = document
        .operations
        .iter()
        .find(|(name, _)| match operation {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        });
    if let Some((_, op)) = chosen {
        let walk = Walk {
            document,
            variables,
        };
        walk.root(data, &op.node.selection_set.node);
    }
}

/// Root fields whose type is abstract (an interface): their objects come in order from
/// [`NodeAnswer`](super::types::NodeAnswer), which knows each object's type.
pub const ABSTRACT_ROOT_FIELDS: [&str; 2] = ["node", "nodes"];

/// A response key with the selection sets of every field answering under it.
type Key<'a> = (&'a Name, Vec<&'a SelectionSet>);

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
}

impl<'a> Walk<'a> {
    /// Orders the root object: as any other, but below the abstract root fields only what
    /// their objects' fields hold.
    fn root(&self, data: &mut ConstValue, set: &'a SelectionSet) {
        let ConstValue::Object(map) = data else {
            return;
        };
        let keys = self.keys(&[set]);
        let abstract_keys = self.abstract_keys(set);
        self.sort(map, &keys);
        for (key, child) in map.iter_mut() {
            let Some((_, sets)) = keys.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            if !abstract_keys.contains(&key) {
                self.value(child, sets);
                continue;
            }
            let objects = match child {
                ConstValue::List(items) => items.iter_mut().collect(),
                other => vec![other],
            };
            let inner = self.keys(sets);
            for object in objects {
                if let ConstValue::Object(fields) = object {
                    self.children(fields, &inner);
                }
            }
        }
    }

    /// The response keys of `set` (fragments included) that select an abstract root field.
    fn abstract_keys(&self, set: &'a SelectionSet) -> Vec<&'a Name> {
        let mut out = Vec::new();
        let mut stack = vec![set];
        let mut spread = HashSet::new();
        while let Some(set) = stack.pop() {
            for selection in &set.items {
                match &selection.node {
                    Selection::Field(field) => {
                        let name = field.node.name.node.as_str();
                        if ABSTRACT_ROOT_FIELDS.contains(&name) {
                            out.push(&field.node.response_key().node);
                        }
                    }
                    Selection::InlineFragment(inline) => {
                        stack.push(&inline.node.selection_set.node)
                    }
                    Selection::FragmentSpread(fragment) => {
                        let name = fragment.node.fragment_name.node.as_str();
                        if spread.insert(name)
                            && let Some(definition) = self.document.fragments.get(name)
                        {
                            stack.push(&definition.node.selection_set.node);
                        }
                    }
                }
            }
        }
        out
    }

    /// Orders `value`, selected by the (merged) selection sets `sets`.
    fn value(&self, value: &mut ConstValue, sets: &[&'a SelectionSet]) {
        match value {
            ConstValue::List(items) => {
                // Every object of a list has the same selection: collect its keys once.
                let keys = self.keys(sets);
                for item in items {
                    match item {
                        ConstValue::Object(map) => self.object(map, &keys),
                        other => self.value(other, sets),
                    }
                }
            }
            ConstValue::Object(map) => self.object(map, &self.keys(sets)),
            _ => {}
        }
    }

    /// Puts `map`'s keys in the order of `keys`, then orders each child.
    fn object(&self, map: &mut IndexMap<Name, ConstValue>, keys: &[Key<'a>]) {
        self.sort(map, keys);
        self.children(map, keys);
    }

    /// Puts `map`'s keys in the order of `keys`.
    fn sort(&self, map: &mut IndexMap<Name, ConstValue>, keys: &[Key<'a>]) {
        let place = |key: &Name| {
            keys.iter()
                .position(|(k, _)| *k == key)
                .unwrap_or(usize::MAX)
        };
        // Most objects come in order already (see `types::InOrder`): sorting would only allocate.
        if !map.keys().map(place).is_sorted() {
            map.sort_by_cached_key(|key, _| place(key));
        }
    }

    /// Orders each child of `map` by the selection sets `keys` hold for it.
    fn children(&self, map: &mut IndexMap<Name, ConstValue>, keys: &[Key<'a>]) {
        let position = |key: &Name| keys.iter().position(|(k, _)| *k == key);
        for (key, child) in map.iter_mut() {
            if let Some(index) = position(key)
                && !keys[index].1.is_empty()
            {
                self.value(child, &keys[index].1);
            }
        }
    }

    /// The response keys `sets` select, in order, each with the selection sets under it.
    fn keys(&self, sets: &[&'a SelectionSet]) -> Vec<Key<'a>> {
        let mut keys = Vec::new();
        for set in sets {
            self.collect(set, &mut keys, &mut HashSet::new());
        }
        keys
    }

    /// Appends the response keys of `set` in order, each with the selection sets under it.
    fn collect(
        &self,
        set: &'a SelectionSet,
        keys: &mut Vec<Key<'a>>,
        spread: &mut HashSet<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if self.skipped(&field.node.directives) {
                        continue;
                    }
                    let key = &field.node.response_key().node;
                    let sub = &field.node.selection_set.node;
                    match keys.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => keys.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(inline) => {
                    if !self.skipped(&inline.node.directives) {
                        self.collect(&inline.node.selection_set.node, keys, spread);
                    }
                }
                Selection::FragmentSpread(fragment) => {
                    let name = fragment.node.fragment_name.node.as_str();
                    if self.skipped(&fragment.node.directives) || !spread.insert(name) {
                        continue;
                    }
                    if let Some(definition) = self.document.fragments.get(name) {
                        self.collect(&definition.node.selection_set.node, keys, spread);
                    }
                }
            }
        }
    }

    /// Whether `@skip(if: true)` or `@include(if: false)` leaves the selection out.
    fn skipped(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().any(|directive| {
            let wanted = match directive.node.name.node.as_str() {
                "skip" => true,
                "include" => false,
                _ => return false,
            };
            let condition = match directive.node.get_argument("if").map(|v| &v.node) {
                Some(Value::Boolean(b)) => Some(*b),
                Some(Value::Variable(name)) => match self.variables.get(name) {
                    Some(ConstValue::Boolean(b)) => Some(*b),
                    _ => None,
                },
                _ => None,
            };
            condition == Some(wanted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reordered(query: &str, variables: serde_json::Value, answer: serde_json::Value) -> String {
        let document = async_graphql::parser::parse_query(query).expect("query parses");
        let variables = Variables::from_json(variables);
        let mut data = ConstValue::from_json(answer).expect("answer is a value");
        reorder(&mut data, &document, None, &variables);
        // Straight from the value: a `serde_json::Value` would sort the keys.
        serde_json::to_string(&data).expect("json")
    }

    #[test]
    fn keys_follow_the_selection_through_fragments_aliases_and_merges() {
        let query = "query Q($hide: Boolean!) {
            customers { totalCount nodes { b: name id @skip(if: $hide) ...F id zz: kind } }
        }
        fragment F on Customer { x: email nodes { id } }";
        let answer = serde_json::json!({"customers": {
            "nodes": [{"zz": "K", "id": 1, "x": "e", "b": "n"}, {"x": "f", "b": "m", "zz": "L", "id": 2}],
            "totalCount": 2
        }});
        assert_eq!(
            reordered(query, serde_json::json!({"hide": true}), answer),
            r#"{"customers":{"totalCount":2,"nodes":[{"b":"n","x":"e","id":1,"zz":"K"},{"b":"m","x":"f","id":2,"zz":"L"}]}}"#
        );
    }

    #[test]
    fn a_key_selected_twice_keeps_its_first_place_and_merges_its_fields() {
        let query = "{ a { y } b a { x } }";
        let answer = serde_json::json!({"b": 1, "a": {"x": 2, "y": 3}});
        assert_eq!(
            reordered(query, serde_json::json!({}), answer),
            r#"{"a":{"y":3,"x":2},"b":1}"#
        );
    }

    #[test]
    fn an_object_under_node_keeps_its_own_order_and_its_children_are_ordered() {
        // Merged across both fragments the order would be `x, y`; the object is a B.
        let query = "{ n: node(id: 1) { ... on A { x y } ... on B { y x { b a } } } c { b a } }";
        // Built as a value: a `serde_json::Value` would sort the keys before the pass.
        let mut data =
            async_graphql::value!({"c": {"a": 1, "b": 2}, "n": {"y": 1, "x": {"a": 3, "b": 4}}});
        let document = async_graphql::parser::parse_query(query).expect("query parses");
        reorder(&mut data, &document, None, &Variables::default());
        assert_eq!(
            serde_json::to_string(&data).expect("json"),
            r#"{"n":{"y":1,"x":{"b":4,"a":3}},"c":{"b":2,"a":1}}"#
        );
    }
}
