//! Finding a deployed stack's resources from its CloudFormation outputs.

use std::collections::HashMap;

use aws_sdk_cloudformation::Client;

use crate::CliError;

pub const DEFAULT_STACK: &str = "notifier";

#[derive(Debug, Clone)]
pub struct StackOutputs {
    stack: String,
    outputs: HashMap<String, String>,
}

impl StackOutputs {
    pub async fn load(client: &Client, stack: &str) -> Result<Self, CliError> {
        let described = client
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|error| {
                let text = format!("{}", aws_sdk_cloudformation::error::DisplayErrorContext(&error));
                if text.contains("does not exist") {
                    CliError::StackNotFound(stack.to_owned())
                } else {
                    CliError::Aws {
                        operation: "DescribeStacks",
                        detail: text,
                    }
                }
            })?;
        let found = described
            .stacks()
            .first()
            .ok_or_else(|| CliError::StackNotFound(stack.to_owned()))?;
        let outputs = found
            .outputs()
            .iter()
            .filter_map(|output| Some((output.output_key()?.to_owned(), output.output_value()?.to_owned())))
            .collect();
        Ok(Self {
            stack: stack.to_owned(),
            outputs,
        })
    }

    pub fn get(&self, name: &str) -> Result<&str, CliError> {
        self.outputs
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| CliError::MissingOutput {
                stack: self.stack.clone(),
                output: name.to_owned(),
            })
    }
}
