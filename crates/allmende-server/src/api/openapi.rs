//! The OpenAPI 3.1 description of `/api/v1`, served at
//! `/api/v1/openapi.json`. Written out here, so it reads as documentation,
//! but it cannot drift: its operations are checked against those the
//! router registers (`api::routes`), every enumeration is generated from
//! the domain's own list of values, the properties of every input schema
//! are checked against the fields of the Rust type the API reads (tests
//! below), and an end-to-end test sends every documented operation to a
//! running node and expects one of the documented answers.

use allmende_domain::{
    Audience, Bundesland, ItemKind, Maturity, OrganizationKind, ProjectStatus, SolutionKind,
    Themenfeld,
};
use serde_json::{json, Value};

fn slugs<T: Copy>(all: &[T], slug: impl Fn(T) -> &'static str) -> Value {
    all.iter().map(|v| slug(*v)).collect()
}

fn error_responses(codes: &[&str]) -> serde_json::Map<String, Value> {
    let text = |c: &str| match c {
        "400" => "Malformed JSON or query parameter",
        "401" => "Missing or invalid API token",
        "403" => "Your organization may not change this",
        "404" => "No such item",
        "409" => "Already exists",
        "413" => "Body larger than the configured limit",
        "415" => "Body is not JSON",
        _ => "Invalid value; `field` names it",
    };
    let mut errors: Vec<&str> = codes.to_vec();
    if codes.contains(&"422") {
        errors.extend(["400", "413", "415"]);
    }
    errors
        .into_iter()
        .map(|c| (c.to_owned(), json!({"description": text(c), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})))
        .collect()
}

fn operation(
    summary: &str,
    auth: bool,
    body: Option<&str>,
    ok: (&str, &str),
    errors: &[&str],
) -> Value {
    let mut responses = error_responses(errors);
    responses.insert(
        ok.0.into(),
        json!({"description": ok.1, "content": {"application/json": {}}}),
    );
    let mut op = json!({ "summary": summary, "responses": responses });
    if auth {
        op["security"] = json!([{"bearer": []}]);
    }
    if let Some(schema) = body {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    }
    op
}

fn collection(name: &str, input: &str) -> (Value, Value) {
    let list = json!({
        "get": {
            "summary": format!("List {name}, newest first, or search them with q"),
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "full-text search (as GET /search with type); results best first, at most 100 per request"},
                {"name": "organization", "in": "query", "schema": {"type": "string"}, "description": "organization handle"},
                {"name": "themenfeld", "in": "query", "schema": {"$ref": "#/components/schemas/Themenfeld"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}}
            ],
            "responses": error_responses(&["400"]).into_iter().chain([("200".to_owned(), json!({"description": "{items, limit, offset}"}))]).collect::<serde_json::Map<_, _>>()
        },
        "post": operation(&format!("Publish a new item in {name} for your organization, optionally to groups it is a member of"), true, Some(&format!("{input}WithGroups")), ("201", "Created; Location names the new item"), &["401", "422"]),
    });
    let one = json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "get": operation("Read one item", false, None, ("200", "The item"), &["404"]),
        "patch": operation("Change the fields present in the body; null clears a field", true, Some(input), ("200", "The changed item"), &["401", "403", "404", "422"]),
        "delete": operation("Delete the item", true, None, ("204", "Deleted"), &["401", "403", "404"]),
    });
    (list, one)
}

/// `input` with `groups`, the handles of groups to publish to.
fn with_groups(input: &Value) -> Value {
    let mut schema = input.clone();
    schema["properties"]["groups"] = json!({"type": "array", "items": {"type": "string"}, "description": "handles of groups your organization is an accepted member of (public items only); each passes the item on to its followers"});
    schema
}

/// The parameters of `GET /search`; facet values from the domain's lists.
fn search_parameters() -> Value {
    use allmende_store::{DocKind, SizeClass};
    let mut statuses: Vec<&str> = ProjectStatus::ALL.iter().map(|s| s.slug()).collect();
    statuses.extend(Maturity::ALL.iter().map(|m| m.slug()));
    statuses.extend(["open", "answered"]);
    let param = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "schema": schema, "description": description});
    json!([
        param("q", json!({"type": "string", "maxLength": 200}), "words; every word must occur (as a German stem, so 'Bewohnerparken' finds 'Bewohnerparkausweis'); empty lists newest first"),
        param("type", json!({"type": "string", "enum": slugs(&DocKind::ALL, DocKind::slug)}), "kind of entry"),
        param("status", json!({"type": "string", "enum": statuses}), "project status, solution maturity, or open/answered for questions"),
        param("themenfeld", json!({"$ref": "#/components/schemas/Themenfeld"}), ""),
        param("service", json!({"type": "string", "pattern": "^(leika:[0-9]{14}|ozg:[0-9]{1,5}|[0-9]{1,5}|[0-9]{14})$"}), "LeiKa key or OZG id"),
        param("bundesland", json!({"type": "string", "enum": slugs(Bundesland::ALL, Bundesland::slug)}), "federal state of the author"),
        param("organization_kind", json!({"type": "string", "enum": slugs(OrganizationKind::ALL, OrganizationKind::slug)}), "kind of the author"),
        param("size", json!({"type": "string", "enum": slugs(&SizeClass::ALL, SizeClass::slug)}), "population class of the author"),
        param("licence", json!({"type": "string"}), "SPDX expression of a solution"),
        param("seeking_partners", json!({"type": "boolean"}), "projects looking for partners"),
        param("from", json!({"type": "string", "format": "date"}), "published on or after"),
        param("to", json!({"type": "string", "format": "date"}), "published on or before"),
        param("page", json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 1}), ""),
        param("per_page", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}), "")
    ])
}

pub fn document() -> Value {
    let (projects, project) = collection(ItemKind::Project.collection(), "ProjectInput");
    let (questions, question) = collection(ItemKind::Question.collection(), "QuestionInput");
    let (solutions, solution) = collection(ItemKind::Solution.collection(), "SolutionInput");
    let string = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let contact = json!({"type": "object", "additionalProperties": false, "properties": {"name": string, "role": string, "email": {"type": "string", "format": "email"}, "phone": string}});
    let links = json!({"type": "array", "maxItems": 20, "items": {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {"title": string, "url": {"type": "string", "format": "uri"}}}});
    let leika = json!({"type": "array", "maxItems": 50, "items": {"type": "string", "pattern": "^[0-9]{14}$"}});
    let ozg = json!({"type": "array", "maxItems": 50, "items": {"type": "integer", "minimum": 1, "maximum": 99999}});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Allmende API",
            "version": "1",
            "description": "Publish and read projects, questions with answers and reusable solutions of the organizations on this node. Reading is open; changing needs an API token (`allmende token create EMAIL` or the account page). Errors are `{\"error\": \"…\", \"field\": \"…\"}`.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "alm_… token"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": string, "field": {"type": "string", "description": "JSON path of the offending field, e.g. leika_keys[1]"}}},
                "Themenfeld": {"type": "string", "enum": slugs(Themenfeld::ALL, Themenfeld::slug)},
                "ProjectInput": {"type": "object", "additionalProperties": false, "required": ["title"], "properties": {
                    "title": {"type": "string", "maxLength": 200}, "summary": string, "body": string,
                    "status": {"type": "string", "enum": slugs(ProjectStatus::ALL, ProjectStatus::slug), "default": "idea"},
                    "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
                    "themenfeld": {"$ref": "#/components/schemas/Themenfeld"}, "leika_keys": leika, "ozg_ids": ozg,
                    "partners": strings, "funding_programme": string, "seeking_partners": {"type": "boolean"},
                    "contact": contact, "links": links}},
                "QuestionInput": {"type": "object", "additionalProperties": false, "required": ["title", "body"], "properties": {
                    "title": {"type": "string", "maxLength": 200}, "body": string,
                    "audience": {"type": "string", "enum": slugs(Audience::ALL, Audience::slug), "default": "public"},
                    "themenfeld": {"$ref": "#/components/schemas/Themenfeld"}, "leika_keys": leika}},
                "AnswerInput": {"type": "object", "additionalProperties": false, "required": ["body"], "properties": {"body": string}},
                "SolutionInput": {"type": "object", "additionalProperties": false, "required": ["title", "kind"], "properties": {
                    "title": {"type": "string", "maxLength": 200}, "summary": string, "body": string,
                    "kind": {"type": "string", "enum": slugs(SolutionKind::ALL, SolutionKind::slug)},
                    "licence": {"type": "string", "description": "SPDX licence expression"},
                    "maturity": {"type": "string", "enum": slugs(Maturity::ALL, Maturity::slug), "default": "concept"},
                    "repository_url": {"type": "string", "format": "uri"}, "publiccode_yml": string,
                    "themenfeld": {"$ref": "#/components/schemas/Themenfeld"}, "leika_keys": leika, "ozg_ids": ozg,
                    "contact": contact, "links": links}},
                "OrganizationInput": {"type": "object", "additionalProperties": false, "required": ["name", "kind"], "properties": {
                    "name": string, "kind": {"type": "string", "enum": slugs(OrganizationKind::ALL, OrganizationKind::slug)},
                    "ags": {"type": "string", "pattern": "^[0-9]{8}$"}, "ars": {"type": "string", "pattern": "^[0-9]{12}$"},
                    "bundesland": {"type": "string", "enum": slugs(Bundesland::ALL, Bundesland::slug)}, "population": {"type": "integer", "minimum": 0}, "website": {"type": "string", "format": "uri"},
                    "description": string, "contact": contact}}
            }
        },
        "paths": {
            "/projects": projects,
            "/projects/{id}": project,
            "/questions": questions,
            "/questions/{id}": question,
            "/questions/{id}/answers": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
                "post": operation("Answer a question for your organization", true, Some("AnswerInput"), ("201", "The answer"), &["401", "404", "422"])
            },
            "/answers/{id}/accept": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
                "post": operation("Accept an answer to your organization's question", true, None, ("200", "The question with its answers"), &["401", "403", "404"])
            },
            "/solutions": solutions,
            "/solutions/{id}": solution,
            "/organizations": {"get": operation("List the organizations on this node", false, None, ("200", "{items}"), &[])},
            "/organizations/{handle}": {
                "parameters": [{"name": "handle", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": operation("Read an organization's profile", false, None, ("200", "The organization"), &["404"]),
                "put": operation("Replace your organization's profile (admins)", true, Some("OrganizationInput"), ("200", "The organization"), &["401", "403", "404", "422"])
            },
            "/me": {"get": operation("The user and organization of the token", true, None, ("200", "{email, role, organization}"), &["401"])},
            "/follows": {
                "get": operation("Whom your organization follows and who follows it", true, None, ("200", "{following: [{organization, accepted}], followers: [...]}"), &["401"]),
                "post": operation("Follow an organization on another node: {\"target\": \"name@host\" or actor URL}", true, None, ("202", "{organization, accepted: false}; accepted once the other node answers"), &["400", "401", "415", "422"])
            },
            "/follows/{handle}": {"delete": operation("Stop following (handle name@host)", true, None, ("204", "Unfollowed"), &["401", "404"])},
            "/feed": {"get": operation("Newest items of followed organizations and of the groups it is a member of (?limit=1..200)", true, None, ("200", "{items: [... with type project|question|solution|post]}"), &["401"])},
            "/groups": {"get": operation("The groups (associations and networks) your organization is a member of; join with POST /follows, leave with DELETE /follows/{handle}", true, None, ("200", "{groups: [organization]}"), &["401"])},
            "/groups/{handle}": {
                "parameters": [{"name": "handle", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": operation("A group: members and the items it carries with their authors; for its admins also pending, blocked and moderation_log", false, None, ("200", "{group, members, items: [{object, type, id, href, author, added_at}]}"), &["404"])
            },
            "/group/removals": {"post": operation("Remove an item from your group (admins of a group); announced to its followers", true, Some("Removal"), ("204", "Removed"), &["401", "403", "404", "422"])},
            "/group/blocks": {"post": operation("Block an organization in your group (admins): removed as member, its items removed from the group on every node", true, Some("Block"), ("204", "Blocked"), &["401", "403", "404", "422"])},
            "/group/blocks/{handle}": {
                "parameters": [{"name": "handle", "in": "path", "required": true, "schema": {"type": "string"}}],
                "delete": operation("Lift a block (admins of a group)", true, None, ("204", "Unblocked"), &["401", "403", "404"])
            },
            "/search": {"get": {
                "summary": "Search everything this node holds (projects, questions with their answers, solutions, organizations and groups, local and from other nodes), with German stemming, facet counts over all hits and paging; the same search as the /search page",
                "parameters": search_parameters(),
                "responses": error_responses(&["400"]).into_iter().chain([("200".to_owned(), json!({"description": "{total, page, per_page, pages, hits: [{type, id, title, url, organization, published, snippet}], facets: {type|status|themenfeld|service|bundesland|organization_kind|size|licence|seeking_partners: [{value, count, label_de, label_en}]}}"}))]).collect::<serde_json::Map<_, _>>()
            }},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        }
    });
    let paths = &mut doc["paths"];
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
    paths["/solutions/{id}/adoption"] = json!({
        "parameters": id_param,
        "put": operation("Declare (or update) that your organization uses this solution; published by your organization and federated", true, Some("AdoptionInput"), ("200", "The adoption {id, organization, solution, stage, since, version, parameters, note, created_at, updated_at}"), &["401", "404", "415", "422"]),
        "delete": operation("Withdraw your organization's declaration", true, None, ("204", "Withdrawn"), &["401", "404"])
    });
    paths["/solutions/{id}/adopters"] = json!({
        "parameters": id_param,
        "get": operation("The verified adopters of a solution known on this node, and its variants", false, None, ("200", "{solution, total, production, adopters: [adoption], variants: [{id, title, url}]}"), &["404"])
    });
    paths["/publiccode/import"] = json!({"post": operation("Check a publiccode.yml ({publiccode_yml} or {url} of the file or a GitLab repository) and make a solution input from it", true, Some("PubliccodeImport"), ("200", "{publiccode: facts, solution: SolutionInput}"), &["401", "415", "422"])});
    paths["/catalogue"] = json!({"get": operation("Every public software solution of this node with a publiccode.yml, with the file's stable URL (for catalogues that crawl publiccode.yml files)", false, None, ("200", "{total, items: [{title, url, publiccode_url, repository, updated_at}]}"), &[])});
    let schemas = &mut doc["components"]["schemas"];
    let solution = &mut schemas["SolutionInput"]["properties"];
    solution["publiccode_yml"] = json!({"type": "string", "maxLength": 65536, "description": "checked against the publiccode.yml standard (0.x, read by the 0.7 rules); each error names the key in the file"});
    solution["used_by"] = json!({"type": "array", "items": {"type": "string"}, "deprecated": true, "description": "ignored; use PUT /solutions/{id}/adoption"});
    solution["variant_of"] = json!({"type": "string", "format": "uri", "description": "the original solution this one adapts: its ActivityPub id or its page on this node"});
    solution["local_parameters"] = json!({"type": "array", "maxItems": 30, "items": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "example": {"type": "string"}, "required": {"type": "boolean", "default": false}}}});
    for input in ["ProjectInput", "QuestionInput", "SolutionInput"] {
        let extended = with_groups(&schemas[input]);
        schemas[format!("{input}WithGroups")] = extended;
    }
    schemas["AdoptionInput"] = json!({"type": "object", "additionalProperties": false, "required": ["stage"], "properties": {
        "stage": {"type": "string", "enum": ["pilot", "production"]},
        "since": {"type": "string", "format": "date"},
        "version": {"type": "string", "maxLength": 200},
        "parameters": {"type": "array", "maxItems": 30, "items": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}, "description": "your values for the solution's local parameters, where you want to share them"},
        "note": {"type": "string", "maxLength": 1000}}});
    schemas["PubliccodeImport"] = json!({"type": "object", "additionalProperties": false, "properties": {"publiccode_yml": {"type": "string"}, "url": {"type": "string", "format": "uri"}}});
    schemas["Removal"] = json!({"type": "object", "additionalProperties": false, "required": ["object"], "properties": {"object": {"type": "string", "format": "uri", "description": "the item's ActivityPub id"}}});
    schemas["Block"] = json!({"type": "object", "additionalProperties": false, "required": ["member"], "properties": {"member": {"type": "string", "description": "the organization's handle (name@host for one elsewhere)"}}});
    doc
}

#[cfg(test)]
mod tests {
    use allmende_domain::solution::LocalParameterInput;
    use allmende_domain::text::LinkInput;
    use allmende_domain::{
        AnswerInput, ContactInput, OrganizationInput, ProjectInput, QuestionInput, SolutionInput,
    };
    use serde::Serialize;
    use serde_json::Value;

    /// The JSON keys of a type the API reads (every field serialises, also
    /// when empty).
    fn fields<T: Serialize + Default>() -> Vec<String> {
        let mut keys: Vec<String> = serde_json::to_value(T::default())
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn properties(schema: &Value) -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn every_input_schema_has_exactly_the_fields_of_its_type() {
        let doc = super::document();
        let schemas = &doc["components"]["schemas"];
        let cases = [
            ("ProjectInput", fields::<ProjectInput>()),
            ("QuestionInput", fields::<QuestionInput>()),
            ("AnswerInput", fields::<AnswerInput>()),
            ("SolutionInput", fields::<SolutionInput>()),
            ("OrganizationInput", fields::<OrganizationInput>()),
            ("AdoptionInput", fields::<allmende_domain::AdoptionInput>()),
        ];
        for (name, expected) in cases {
            let schema = &schemas[name];
            assert_eq!(properties(schema), expected, "{name}");
            assert_eq!(
                schema["additionalProperties"], false,
                "{name} refuses unknown fields"
            );
        }
        let project = &schemas["ProjectInput"]["properties"];
        assert_eq!(properties(&project["contact"]), fields::<ContactInput>());
        assert_eq!(
            properties(&project["links"]["items"]),
            fields::<LinkInput>()
        );
        let solution = &schemas["SolutionInput"]["properties"];
        assert_eq!(
            properties(&solution["local_parameters"]["items"]),
            fields::<LocalParameterInput>()
        );
    }
}
