//! Building API Gateway (REST, proxy integration) responses. Only the five fields API Gateway
//! accepts are ever set.

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::CONTENT_TYPE;

use crate::problem::Problem;

pub fn problem_response(problem: &Problem) -> ApiGatewayProxyResponse {
    // A Problem is plain strings and numbers: serialisation cannot fail.
    let body = serde_json::to_string(problem).unwrap_or_default();
    response(problem.status, "application/problem+json", Some(body))
}

fn empty_response(status: u16) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
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
