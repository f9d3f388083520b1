module "env" {
  source = "./child"
  count  = 2
  name   = "env-${count.index}"
}

output "ids" {
  value = module.env[*].name
}
