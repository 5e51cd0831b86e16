"""AWS Bedrock, pure: Converse requests and streams, and the Anthropic-native InvokeModel body."""
