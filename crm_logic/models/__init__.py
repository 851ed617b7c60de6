"""The probabilistic customer-base models of the CLV literature, fitted by maximum likelihood."""
from crm_logic.models.base import ModelError
from crm_logic.models.bg_nbd import BetaGeoModel
from crm_logic.models.gamma_gamma import GammaGammaModel
from crm_logic.models.mbg_nbd import ModifiedBetaGeoModel
from crm_logic.models.pareto_nbd import ParetoNBDModel

MODELS = {
    "bg_nbd": BetaGeoModel,
    "pareto_nbd": ParetoNBDModel,
    "mbg_nbd": ModifiedBetaGeoModel,
    "gamma_gamma": GammaGammaModel,
}

__all__ = ["BetaGeoModel", "ParetoNBDModel", "ModifiedBetaGeoModel", "GammaGammaModel", "MODELS", "ModelError"]
