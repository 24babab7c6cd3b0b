//! The API's front door: authenticate, then dispatch on method and path.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::http::Method;
use aws_lambda_events::http::header::AUTHORIZATION;

use crate::auth::CachedAuthenticator;
use crate::events::EventReader;
use crate::http::problem_response;
use crate::problem::Problem;
use crate::publish::Publisher;
use crate::subscriptions::SubscriptionApi;

pub struct Api {
    pub auth: CachedAuthenticator,
    pub publisher: Publisher,
    pub events: EventReader,
    pub subscriptions: SubscriptionApi,
}

/// The operations of the public contract, recognised from method and path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    PublishEvent,
    PublishBatch,
    GetEvent(&'a str),
    CreateSubscription,
    ListSubscriptions,
    GetSubscription(&'a str),
    UpdateSubscription(&'a str),
    DeleteSubscription(&'a str),
    RotateSecret(&'a str),
}

#[derive(Debug, PartialEq, Eq)]
enum Resolution<'a> {
    Found(Route<'a>),
    WrongMethod,
    NoSuchPath,
}

fn resolve<'a>(method: &Method, path: &'a str) -> Resolution<'a> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let route = match (segments.as_slice(), method.as_str()) {
        (["v1", "events"], "POST") => Route::PublishEvent,
        (["v1", "events:batch"], "POST") => Route::PublishBatch,
        (["v1", "events", id], "GET") => Route::GetEvent(id),
        (["v1", "subscriptions"], "POST") => Route::CreateSubscription,
        (["v1", "subscriptions"], "GET") => Route::ListSubscriptions,
        (["v1", "subscriptions", id], "GET") => Route::GetSubscription(id),
        (["v1", "subscriptions", id], "PATCH") => Route::UpdateSubscription(id),
        (["v1", "subscriptions", id], "DELETE") => Route::DeleteSubscription(id),
        (["v1", "subscriptions", id, "rotate-secret"], "POST") => Route::RotateSecret(id),
        (["v1", "events"] | ["v1", "events:batch"] | ["v1", "events", _], _)
        | (
            ["v1", "subscriptions"]
            | ["v1", "subscriptions", _]
            | ["v1", "subscriptions", _, "rotate-secret"],
            _,
        ) => {
            return Resolution::WrongMethod;
        }
        _ => return Resolution::NoSuchPath,
    };
    Resolution::Found(route)
}

impl Api {
    pub async fn handle(&self, request: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
        let path = request.path.as_deref().unwrap_or("/");
        let authorization = request
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let tenant = match self.auth.authenticate(authorization).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => return problem_response(&Problem::unauthorized()),
            Err(error) => {
                tracing::error!(%error, "authentication lookup failed");
                return problem_response(&Problem::internal());
            }
        };
        let route = match resolve(&request.http_method, path) {
            Resolution::Found(route) => route,
            Resolution::WrongMethod => {
                return problem_response(&Problem::method_not_allowed(request.http_method.as_str(), path));
            }
            Resolution::NoSuchPath => {
                return problem_response(&Problem::not_found(format!("No resource at {path}.")));
            }
        };
        let subscriptions = &self.subscriptions;
        let outcome = match route {
            Route::PublishEvent => return self.publisher.publish(&tenant, &request).await,
            Route::PublishBatch => return self.publisher.publish_batch(&tenant, &request).await,
            Route::GetEvent(id) => return self.events.get(&tenant, id).await,
            Route::CreateSubscription => subscriptions.create(&tenant, &request).await,
            Route::ListSubscriptions => subscriptions.list(&tenant).await,
            Route::GetSubscription(id) => subscriptions.get(&tenant, id).await,
            Route::UpdateSubscription(id) => subscriptions.update(&tenant, id, &request).await,
            Route::DeleteSubscription(id) => subscriptions.delete(&tenant, id).await,
            Route::RotateSecret(id) => subscriptions.rotate_secret(&tenant, id).await,
        };
        outcome.unwrap_or_else(|problem| problem_response(&problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_routes_resolve() {
        assert_eq!(
            resolve(&Method::POST, "/v1/events"),
            Resolution::Found(Route::PublishEvent)
        );
        assert_eq!(
            resolve(&Method::POST, "/v1/events:batch"),
            Resolution::Found(Route::PublishBatch)
        );
        assert_eq!(resolve(&Method::GET, "/v1/events:batch"), Resolution::WrongMethod);
        assert_eq!(
            resolve(&Method::GET, "/v1/events/evt_1"),
            Resolution::Found(Route::GetEvent("evt_1"))
        );
        assert_eq!(
            resolve(&Method::GET, "/v1/subscriptions/"),
            Resolution::Found(Route::ListSubscriptions)
        );
        assert_eq!(
            resolve(&Method::POST, "/v1/subscriptions/sub_1/rotate-secret"),
            Resolution::Found(Route::RotateSecret("sub_1"))
        );
        assert_eq!(
            resolve(&Method::PATCH, "/v1/subscriptions/sub_1"),
            Resolution::Found(Route::UpdateSubscription("sub_1"))
        );
    }

    #[test]
    fn wrong_methods_and_unknown_paths_are_told_apart() {
        assert_eq!(resolve(&Method::DELETE, "/v1/events"), Resolution::WrongMethod);
        assert_eq!(
            resolve(&Method::GET, "/v1/subscriptions/sub_1/rotate-secret"),
            Resolution::WrongMethod
        );
        assert_eq!(resolve(&Method::GET, "/v2/events"), Resolution::NoSuchPath);
        assert_eq!(resolve(&Method::GET, "/"), Resolution::NoSuchPath);
    }
}
