//! The HTTP edge: reading API Gateway (REST, proxy integration) requests and building its
//! responses. Only the five response fields API Gateway accepts are ever set.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::CONTENT_TYPE;
use base64::Engine;
use serde::Serialize;

use crate::problem::Problem;

pub fn header<'a>(request: &'a ApiGatewayProxyRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

/// The media type of the request body, lower-cased, without parameters.
pub fn media_type(request: &ApiGatewayProxyRequest) -> Option<String> {
    let value = header(request, "content-type")?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

/// The raw body bytes (API Gateway base64-encodes bodies it considers binary).
pub fn body_bytes(request: &ApiGatewayProxyRequest) -> Result<Vec<u8>, Problem> {
    let body = request.body.as_deref().unwrap_or_default();
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| Problem::bad_request("The body is not valid base64."))
    } else {
        Ok(body.as_bytes().to_vec())
    }
}

/// The body as a JSON object, for the management routes (JSON only).
pub fn json_object(
    request: &ApiGatewayProxyRequest,
) -> Result<serde_json::Map<String, serde_json::Value>, Problem> {
    if media_type(request).as_deref() != Some("application/json") {
        return Err(Problem::unsupported_media_type("application/json"));
    }
    let bytes = body_bytes(request)?;
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(Problem::bad_request("The body must be a JSON object.")),
        Err(error) => Err(Problem::bad_request(format!(
            "The body is not valid JSON: {error}."
        ))),
    }
}

pub fn json_response(status: u16, body: &impl Serialize) -> ApiGatewayProxyResponse {
    match serde_json::to_string(body) {
        Ok(text) => response(status, "application/json", Some(text)),
        Err(error) => {
            tracing::error!(%error, "response body did not serialise");
            problem_response(&Problem::internal())
        }
    }
}

pub fn problem_response(problem: &Problem) -> ApiGatewayProxyResponse {
    // A Problem is plain strings and numbers: serialisation cannot fail.
    let body = serde_json::to_string(problem).unwrap_or_default();
    response(problem.status, "application/problem+json", Some(body))
}

pub fn empty_response(status: u16) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response
}

pub fn with_header(
    mut response: ApiGatewayProxyResponse,
    name: &'static str,
    value: &'static str,
) -> ApiGatewayProxyResponse {
    response.headers.insert(name, HeaderValue::from_static(value));
    response
}

fn response(status: u16, content_type: &'static str, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = empty_response(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.body = body.map(Body::Text);
    response
}
