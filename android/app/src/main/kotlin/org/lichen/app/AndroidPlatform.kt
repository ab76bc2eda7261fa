package org.lichen.app

import android.bluetooth.BluetoothManager
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.os.PowerManager
import androidx.core.content.ContextCompat
import org.lichen.app.logic.OnboardingPlatform
import org.lichen.app.logic.Permission

/** What onboarding asks the phone; the decisions are in the logic's Onboarding. */
class AndroidPlatform(private val context: Context) : OnboardingPlatform {
    override val apiLevel: Int = Build.VERSION.SDK_INT

    override fun granted(p: Permission): Boolean =
        ContextCompat.checkSelfPermission(context, p.manifestName) == PackageManager.PERMISSION_GRANTED

    override fun bluetoothOn(): Boolean = try {
        context.getSystemService(BluetoothManager::class.java)?.adapter?.isEnabled == true
    } catch (e: SecurityException) {
        false
    }

    override fun ignoringBatteryOptimisations(): Boolean =
        context.getSystemService(PowerManager::class.java)?.isIgnoringBatteryOptimizations(context.packageName) == true
}
