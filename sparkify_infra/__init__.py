"""The Redshift deployment as code, for `sparkify infra up|status|down` (`sparkify_cli/infra.py`): the plan
(`plan.py`, validated settings), the IAM role, the security group, the cluster or Serverless workgroup, and
`deploy.py`, which puts them together. boto3 loads with the first AWS call."""
