module "env" {
  source = "./child"
  count  = 3
  name   = "env-${count.index}"
}
