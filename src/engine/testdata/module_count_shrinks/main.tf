# Two of the module's three instances are gone: their resources are deleted (found by the
# resource node, which knows the module's instances), the first stays.
module "env" {
  source = "./child"
  count  = 1
  name   = "env-${count.index}"
}
